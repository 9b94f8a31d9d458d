// Carrier call-forwarding codes (telephony_forwarding.hpp).
#include "core/telephony/telephony_forwarding.hpp"

#include <algorithm>
#include <cstring>

#include "core/base/base_error.hpp"
#include "core/telephony/telephony_phone.hpp"

namespace sb::tel {

const char* const kCarriers[7] = {"att",           "tmobile", "sprint",    "other_gsm",
                                  "international", "verizon", "other_cdma"};

namespace {

constexpr int kDefaultRingSeconds = 25;

enum class Family { gsm, tmobile, cdma };

// Ensures: the code family of a known carrier; 22023 naming an unknown one.
Family carrier_family(std::string_view carrier) {
  if (carrier == "tmobile" || carrier == "sprint") return Family::tmobile;
  if (carrier == "att" || carrier == "other_gsm" || carrier == "international") return Family::gsm;
  if (carrier == "verizon" || carrier == "other_cdma") return Family::cdma;
  std::string known;
  for (const char* name : kCarriers) known += std::string(known.empty() ? "" : ", ") + name;
  throw Error("22023", "unknown carrier",
              "Carrier \"" + std::string(carrier) + "\" is not one of " + known + ".");
}

// Ensures: `type` is total_ai or safety_net; 22023 naming it otherwise.
void check_type(std::string_view type) {
  if (type != "total_ai" && type != "safety_net")
    throw Error(
        "22023", "unknown forwarding type",
        "Forwarding type \"" + std::string(type) + "\" is not one of total_ai, safety_net.");
}

// Ensures: the ring time the code carries: none for total_ai and CDMA, else 5..30 in steps of 5
// (25 when absent); 22023 naming a ring time given where none applies or out of range.
std::optional<int> ring_time(Family family, std::string_view type, std::string_view carrier,
                             std::optional<int> ring) {
  bool takes_timer = family != Family::cdma && type == "safety_net";
  if (!takes_timer) {
    if (ring)
      throw Error("22023", "ring time does not apply",
                  "Ring time " + std::to_string(*ring) + " was given for carrier \"" +
                      std::string(carrier) + "\" and forwarding type \"" + std::string(type) +
                      "\", which take none.",
                  "give a ring time only for safety_net forwarding on a GSM carrier");
    return std::nullopt;
  }
  if (!ring) return kDefaultRingSeconds;
  if (*ring < 5 || *ring > 30 || *ring % 5 != 0)
    throw Error("22023", "ring time must be 5 to 30 seconds in steps of 5",
                "Ring time " + std::to_string(*ring) + " is not one of 5, 10, 15, 20, 25, 30.");
  return ring;
}

// Ensures: the destination as the code writes it: +E.164 for GSM, 11 digits (1 + 10) for
// T-Mobile, 10 digits for CDMA; 22023 naming a destination the carrier cannot forward to.
std::string dialed_destination(Family family, std::string_view carrier, const std::string& e164) {
  if (family == Family::gsm) return e164;
  if (e164.size() != 12 || e164.compare(0, 2, "+1") != 0)
    throw Error("22023", "destination must be a North American number for this carrier",
                "Carrier \"" + std::string(carrier) + "\" cannot forward to " + e164 + ".");
  return family == Family::tmobile ? e164.substr(1) : e164.substr(2);
}

void add_instructions(ForwardingCodes& out) {
  out.instructions = {"Open the phone app on the mobile phone whose calls should reach the AI.",
                      "Dial " + out.activation_code + " and press call.",
                      "Wait for the carrier's confirmation (a message or a tone).",
                      "Return to the dashboard and confirm the setup.",
                      "To undo it later, dial " + out.deactivation_code + "."};
}

void add_notes(ForwardingCodes& out, Family family) {
  bool safety = out.forwarding_type == "safety_net";
  if (safety && family != Family::cdma)
    out.notes.push_back(
        "Calls reach the AI when you do not answer within " + std::to_string(*out.ring_seconds) +
        " seconds, when you are busy, or when the phone is off or out of coverage.");
  if (safety && family != Family::cdma)
    out.notes.push_back(
        "Dialing ##004# to undo also removes your carrier's voicemail forwarding: register "
        "voicemail again afterwards, or undo with ##61#, ##67# and ##62# one by one.");
  if (!safety) out.notes.push_back("Every call reaches the AI; your phone does not ring.");
  if (family == Family::tmobile)
    out.notes.push_back("T-Mobile forwards only to North American (+1) numbers.");
  if (family == Family::cdma && safety)
    out.notes.push_back(
        "The carrier forwards unanswered and busy calls after its own ring time; it cannot be set "
        "by a code.");
  if (family == Family::cdma)
    out.notes.push_back("*73 cancels both all-calls and missed-calls forwarding.");
}

}  // namespace

ForwardingCodes forwarding_codes(std::string_view carrier, std::string_view forwarding_type,
                                 std::string_view destination, std::optional<int> ring_seconds) {
  Family family = carrier_family(carrier);
  check_type(forwarding_type);
  ForwardingCodes out;
  out.carrier = carrier;
  out.forwarding_type = forwarding_type;
  out.ring_seconds = ring_time(family, forwarding_type, carrier, ring_seconds);
  out.destination = normalize_phone(destination, "US");
  std::string dest = dialed_destination(family, carrier, out.destination);
  bool safety = forwarding_type == "safety_net";
  if (family == Family::cdma) {
    out.activation_code = (safety ? "*71" : "*72") + dest;
    out.deactivation_code = "*73";
  } else if (safety) {
    out.activation_code = "**004*" + dest + "*11*" + std::to_string(*out.ring_seconds) + "#";
    out.deactivation_code = "##004#";
  } else {
    out.activation_code = "**21*" + dest + "#";
    out.deactivation_code = "##21#";
  }
  add_instructions(out);
  add_notes(out, family);
  return out;
}

}  // namespace sb::tel
