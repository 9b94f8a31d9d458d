// forwarding_codes: SQL arguments to the telephony core's carrier codes and back.
#include "pg/base/base_boundary.hpp"
#include "pg/base/base_datums.hpp"

#include <optional>
#include <string>

#include "core/telephony/telephony_forwarding.hpp"

namespace {

// Ensures: the jsonb answer of forwarding_codes.
sb::JsonWriter codes_json(const sb::tel::ForwardingCodes& codes) {
  sb::JsonWriter out(sb::JsonWriter::Output::tokens);
  out.begin_object().field("carrier", codes.carrier).field("forwardingType", codes.forwarding_type);
  out.field("destination", codes.destination);
  out.key("ringSeconds");
  if (codes.ring_seconds)
    out.number(*codes.ring_seconds);
  else
    out.null();
  out.field("activationCode", codes.activation_code);
  out.field("deactivationCode", codes.deactivation_code);
  out.key("instructions").begin_array();
  for (const auto& line : codes.instructions) out.string(line);
  out.end_array().key("notes").begin_array();
  for (const auto& line : codes.notes) out.string(line);
  out.end_array().end_object();
  return out;
}

}  // namespace

// forwarding_codes(carrier, forwarding_type, destination, ring_seconds) -> jsonb.
SB_FUNCTION(sb_forwarding_codes) {
  sb::pg::require_arg(fcinfo, 0, "carrier");
  sb::pg::require_arg(fcinfo, 1, "forwarding_type");
  sb::pg::require_arg(fcinfo, 2, "destination");
  std::optional<int> ring;
  if (!PG_ARGISNULL(3)) ring = PG_GETARG_INT32(3);
  auto codes = sb::tel::forwarding_codes(sb::pg::text_arg(fcinfo, 0), sb::pg::text_arg(fcinfo, 1),
                                         sb::pg::text_arg(fcinfo, 2), ring);
  return sb::pg::jsonb_datum(codes_json(codes));
}
