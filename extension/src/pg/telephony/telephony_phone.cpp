// normalize_phone and phone_info: SQL arguments to the telephony core (libphonenumber) and back.
// The time-zone prefix data is read once per backend from the extension's share directory.
#include "pg/base/base_boundary.hpp"
#include "pg/base/base_datums.hpp"
#include "pg/telephony/telephony_phone.hpp"

#include <memory>
#include <string>

#include "core/telephony/telephony_phone.hpp"

extern "C" {
#include "miscadmin.h"
#include "utils/jsonb.h"
}

namespace {

namespace tel = sb::tel;

// Ensures: the path of the installed prefix data (share/extension of this installation).
std::string zones_path() {
  char share[MAXPGPATH];
  sb::pg::guard([&] { get_share_path(my_exec_path, share); });
  return std::string(share) + "/extension/switchboard_phone_timezones.txt";
}

// Ensures: the jsonb answer of phone_info.
sb::JsonWriter info_json(const tel::PhoneInfo& info) {
  sb::JsonWriter out(sb::JsonWriter::Output::tokens);
  out.begin_object().field("e164", info.e164).field("valid", info.valid);
  out.field("possible", info.possible).field("region", info.region);
  out.key("countryCode");
  if (info.country_code == 0)
    out.null();
  else
    out.number(info.country_code);
  out.field("type", info.type).field("extension", info.extension);
  out.key("timeZones").begin_array();
  for (const auto& zone : info.time_zones) out.string(zone);
  out.end_array().field("reason", info.reason).end_object();
  return out;
}

}  // namespace

namespace sb::pg {

const tel::ZoneMap& phone_zone_map() {
  static std::unique_ptr<tel::ZoneMap> map;
  if (!map) map = std::make_unique<tel::ZoneMap>(tel::ZoneMap::read(zones_path()));
  return *map;
}

}  // namespace sb::pg

// normalize_phone(input text, default_region text) -> text: the E.164 form or 22023.
SB_FUNCTION(sb_normalize_phone) {
  std::string e164 = tel::normalize_phone(sb::pg::text_arg(fcinfo, 0), sb::pg::text_arg(fcinfo, 1));
  return sb::pg::text_datum(e164);
}

// phone_info(input text, default_region text) -> jsonb: what the number is, never an error for
// the input itself.
SB_FUNCTION(sb_phone_info) {
  auto info = tel::phone_info(sb::pg::text_arg(fcinfo, 0), sb::pg::text_arg(fcinfo, 1),
                              &sb::pg::phone_zone_map());
  return sb::pg::jsonb_datum(info_json(info));
}
