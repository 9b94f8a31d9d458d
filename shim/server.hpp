// Runs switchboard-shim until SIGTERM or SIGINT; returns the process exit code.
#pragma once

#include "config.hpp"

namespace shim {

int serve(const Config& config);

}  // namespace shim
