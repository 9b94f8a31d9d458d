// The hand-written reader of jsonb's text output that the booking area used before it read jsonb
// with PostgreSQL's jsonb API; kept only so that tests/bench/booking_json.sh can compare it.
#pragma once

#include <string_view>

#include "core/base/base_json.hpp"

namespace sb::booking {

// The JSON value written in `text` (as jsonb prints it); sb::Error 22P02 when malformed.
Json parse_json(std::string_view text);

}  // namespace sb::booking
