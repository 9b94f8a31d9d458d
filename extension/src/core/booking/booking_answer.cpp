#include "core/booking/booking_answer.hpp"

#include "core/base/base_error.hpp"
#include "core/base/base_json_writer.hpp"

namespace sb::booking {
namespace {

bool is_detail(std::string_view key) noexcept {
  return key == "service" || key == "notes" || key == "metadata" || key == "source";
}

bool is_source(std::string_view value) noexcept {
  return value == "ai_call" || value == "dashboard" || value == "api";
}

}  // namespace

std::string answer_time(Micros t, const Zone& zone) {
  return sb::answer_time(t, zone.offset_at(t));
}

std::string accepted_answer(std::string_view verb, std::string_view reason,
                            const AppointmentFacts& a, const Zone& zone,
                            const AcceptedExtras& extras) {
  JsonWriter w;
  w.begin_object().field(verb, true).field("reason", reason);
  w.field("appointmentId", to_string(a.id)).field("calendarId", to_string(a.calendar));
  w.field("status", a.status).field("startsAt", answer_time(a.start, zone));
  w.field("endsAt", answer_time(a.end, zone));
  if (a.status == "held" && a.expires) w.field("expiresAt", answer_time(*a.expires, zone));
  if (extras.replayed) w.field("replayed", true);
  if (extras.previous) {
    w.field("previousStartsAt", answer_time(extras.previous->start, zone));
    w.field("previousEndsAt", answer_time(extras.previous->end, zone));
  }
  return w.end_object().text();
}

std::string refused_answer(std::string_view verb, std::string_view reason,
                           const std::optional<std::vector<Micros>>& alternatives, const Zone& zone,
                           const RefusedExtras& extras) {
  JsonWriter w;
  w.begin_object().field(verb, false).field("reason", reason);
  if (!extras.slot_reason.empty()) w.field("slotReason", extras.slot_reason);
  if (!extras.status.empty()) w.field("status", extras.status);
  if (alternatives) {
    w.key("alternatives").begin_array();
    for (Micros t : *alternatives) w.string(answer_time(t, zone));
    w.end_array();
  }
  return w.end_object().text();
}

std::string calendar_answer(std::string_view reason, std::optional<std::string_view> calendar) {
  JsonWriter w;
  w.begin_object().field("updated", calendar.has_value()).field("reason", reason);
  std::string head = w.text();
  if (!calendar) return head + "}";
  return head + ",\"calendar\":" + std::string(*calendar) + "}";
}

void require_details(const Json& details) {
  if (details.kind != Json::Kind::object)
    throw not_json_object_error("details", jsonb_text(details));
  for (const auto& [key, value] : details.members)
    if (!is_detail(key))
      throw Error("22023", "unknown appointment detail",
                  "Key \"" + key + "\" is not an appointment detail.",
                  "Details may hold service, notes, metadata and source.");
  for (const char* key : {"service", "notes", "source"})
    if (const Json* value = details.find(key); value && value->kind != Json::Kind::string)
      throw Error("22023", std::string(key) + " must be a string",
                  given_detail(key, jsonb_text(*value)));
  if (const Json* metadata = details.find("metadata");
      metadata && metadata->kind != Json::Kind::object)
    throw not_json_object_error("metadata", jsonb_text(*metadata));
  if (const Json* source = details.find("source"); source && !is_source(source->text))
    throw Error("22023", "unknown appointment source",
                "Source \"" + source->text + "\" is not an appointment source.",
                "Use ai_call, dashboard or api.");
}

}  // namespace sb::booking

#include "core/base/base_cpp_only.hpp"  // last: fails the build if a PostgreSQL header came in above
