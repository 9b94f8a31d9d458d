// Included last by every source file of src/core: these files must never see a PostgreSQL header
// (which #define printf, ERROR, Min, Max, foreach ...). The Makefile also builds them without
// PostgreSQL's include path.
#pragma once

#if defined(POSTGRES_H) || defined(PG_VERSION_NUM) || defined(FMGR_H)
#error "extension/src/core is pure C++17: do not include PostgreSQL headers here"
#endif
