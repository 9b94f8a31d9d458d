// The one place PostgreSQL's C headers enter the glue; C++ library headers come before it.
#pragma once

#include <exception>
#include <new>
#include <string>
#include <utility>

extern "C" {
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/elog.h"
}
