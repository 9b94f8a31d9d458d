// The telephony area's phone-number data for other areas of the extension: the time-zone prefix
// map that phone_info's timeZones and the contacts' derived zone both read.
#pragma once

#include "core/telephony/telephony_zones.hpp"

namespace sb::pg {

// Ensures: the phone-number time-zone prefix map of this installation (share/extension), read on
// first use in this backend; sb::Error 58P01 naming the file when it is missing.
const sb::tel::ZoneMap& phone_zone_map();

}  // namespace sb::pg
