// Unit tests of the contacts core (extension/src/core/contacts): event times, provider status
// words, the fold entries of Twilio, Vapi and Retell events, and the fold's order independence.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "core/base/base_error.hpp"
#include "core/base/base_json.hpp"
#include "core/contacts/contacts_fold.hpp"
#include "core/contacts/contacts_import.hpp"

namespace {

using namespace sb::contacts;

// The value of a fold field, as text ("" when absent).
std::string value(const sb::Json& fold, const char* field) {
  const sb::Json* entry = fold.find(field);
  return entry ? sb::json_text(entry->items.at(1)) : "";
}

sb::Json facts(const char* provider, const char* event) {
  return call_event_facts(provider, sb::read_json(event)).facts;
}

std::string canonical(sb::Json fold) {
  std::sort(fold.members.begin(), fold.members.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return sb::json_text(fold);
}

TEST(ContactsTime, IsoAndRfc2822) {
  EXPECT_EQ(parse_event_time("2026-12-05T11:00:00Z"), 1796468400000000);
  EXPECT_EQ(parse_event_time("2026-12-05 12:00:00.25+01:00"), 1796468400250000);
  EXPECT_EQ(parse_event_time("2026-12-05T11:00Z"), 1796468400000000);
  EXPECT_EQ(parse_event_time("Sat, 05 Dec 2026 11:00:00 +0000"), 1796468400000000);
  EXPECT_EQ(parse_event_time("Sat, 5 Dec 2026 06:00:00 -0500"), 1796468400000000);
  EXPECT_EQ(parse_event_time("2026-02-29T00:00:00Z"), std::nullopt);  // not a leap year
  EXPECT_EQ(parse_event_time("2026-12-05T11:00:00"), std::nullopt);   // no offset
  EXPECT_EQ(parse_event_time("Sat, 05 Foo 2026 11:00:00 +0000"), std::nullopt);
  EXPECT_EQ(parse_event_time(""), std::nullopt);
}

TEST(ContactsStatus, WordsAndEndedReasons) {
  EXPECT_EQ(call_status_of("initiated", "").status, "queued");
  EXPECT_EQ(call_status_of("ringing", "").rank, 2);
  EXPECT_EQ(call_status_of("in-progress", "").status, "in_progress");
  EXPECT_EQ(call_status_of("no-answer", "").status, "no_answer");
  EXPECT_EQ(call_status_of("ended", "customer-busy").status, "busy");
  EXPECT_EQ(call_status_of("ended", "customer-did-not-answer").status, "no_answer");
  EXPECT_EQ(call_status_of("ended", "dial_failed").status, "failed");
  EXPECT_EQ(call_status_of("ended", "error-providerfault").status, "failed");
  EXPECT_EQ(call_status_of("ended", "user_hangup").status, "completed");
  EXPECT_EQ(call_status_of("transcript", "").rank, 0);
}

TEST(ContactsFacts, Twilio) {
  auto f = facts("twilio",
                 R"({"CallSid": "CA1", "CallStatus": "completed", "SequenceNumber": "3",
                     "Direction": "outbound-api", "From": "+14155550000", "To": "4155550101",
                     "CallDuration": "120", "AnsweredBy": "human",
                     "Timestamp": "Sat, 05 Dec 2026 10:02:09 +0000"})");
  EXPECT_EQ(value(f, "status"), "\"completed\"");
  EXPECT_EQ(value(f, "direction"), "\"outbound\"");
  EXPECT_EQ(value(f, "from_number"), "\"+14155550000\"");
  EXPECT_EQ(value(f, "to_number"), "");  // not E.164
  EXPECT_EQ(value(f, "duration_seconds"), "120");
  EXPECT_EQ(value(f, "ended_at"), "\"2026-12-05T10:02:09.000000Z\"");
  EXPECT_EQ(f.find("status")->items[0].text, "40000000000003");
  auto message = call_event_facts("twilio", sb::read_json(R"({"MessageSid": "SM1"})"));
  EXPECT_FALSE(message.call_id);
}

TEST(ContactsFacts, VapiAndRetell) {
  auto v = facts("vapi", R"({"message": {"type": "end-of-call-report", "timestamp": 1765000300000,
      "endedReason": "voicemail", "cost": 0.42, "durationSeconds": 12.5,
      "call": {"id": "v1", "type": "inboundPhoneCall", "customer": {"number": "+14155550109"}},
      "phoneNumber": {"number": "+14155550000"}}})");
  EXPECT_EQ(value(v, "status"), "\"completed\"");
  EXPECT_EQ(value(v, "answered_by"), "\"machine_end_other\"");
  EXPECT_EQ(value(v, "from_number"), "\"+14155550109\"");
  EXPECT_EQ(value(v, "to_number"), "\"+14155550000\"");
  EXPECT_EQ(value(v, "cost"), "0.42");
  EXPECT_EQ(value(v, "duration_seconds"), "13");
  auto r = facts("retell", R"({"event": "call_analyzed", "call": {"call_id": "r1",
      "call_status": "ended", "disconnection_reason": "dial_busy", "start_timestamp": 1765000000000,
      "call_cost": {"combined_cost": 12.5}, "duration_ms": 90000}})");
  EXPECT_EQ(value(r, "status"), "\"busy\"");
  EXPECT_EQ(value(r, "cost"), "0.125");
  EXPECT_EQ(value(r, "duration_seconds"), "90");
  EXPECT_EQ(value(r, "started_at"), "\"2025-12-06T05:46:40.000000Z\"");
}

TEST(ContactsFacts, Refusals) {
  EXPECT_THROW(call_event_facts("plivo", sb::read_json("{}")), sb::Error);
  try {
    call_event_facts("twilio", sb::read_json("[1, 2]"));
    FAIL();
  } catch (const sb::Error& e) {
    EXPECT_STREQ(e.sqlstate(), "22023");
    EXPECT_EQ(e.detail(), "event: [1, 2]");
  }
  auto vapi = call_event_facts("vapi", sb::read_json(R"({"message": {"type": "transcript"}})"));
  EXPECT_FALSE(vapi.call_id);
  EXPECT_EQ(missing_call_id_error("retell", sb::read_json(R"({"event": "x"})")).detail(),
            "provider: retell; event: {\"event\": \"x\"}");
}

// Any order of a call's events, duplicates included, folds to the in-order result.
TEST(ContactsFold, OrderAndDuplicatesDoNotMatter) {
  std::vector<sb::Json> events;
  const char* words[] = {"queued", "initiated", "ringing", "in-progress", "completed"};
  for (int i = 0; i < 5; ++i)
    events.push_back(
        facts("twilio", ("{\"CallSid\": \"CA1\", \"CallStatus\": \"" + std::string(words[i]) +
                         "\", \"SequenceNumber\": \"" + std::to_string(i) +
                         "\", \"Timestamp\": \"Sat, 05 Dec 2026 10:0" + std::to_string(i) +
                         ":00 +0000\", \"AnsweredBy\": \"human\"}")
                            .c_str()));
  events.push_back(facts("twilio", R"({"CallSid": "CA1", "RecordingUrl": "https://r/1"})"));
  sb::Json in_order;
  in_order.kind = sb::Json::Kind::object;
  for (const auto& e : events) in_order = call_fold(in_order, e);
  EXPECT_EQ(value(in_order, "status"), "\"completed\"");
  EXPECT_EQ(value(in_order, "started_at"), "\"2026-12-05T10:00:00.000000Z\"");
  EXPECT_EQ(value(in_order, "ended_at"), "\"2026-12-05T10:04:00.000000Z\"");
  std::mt19937 random(7);
  for (int round = 0; round < 50; ++round) {
    auto shuffled = events;
    shuffled.push_back(events[random() % events.size()]);
    std::shuffle(shuffled.begin(), shuffled.end(), random);
    sb::Json fold;
    fold.kind = sb::Json::Kind::object;
    for (const auto& e : shuffled) fold = call_fold(fold, e);
    EXPECT_EQ(canonical(fold), canonical(in_order));
  }
}

}  // namespace

namespace {

using namespace sb::contacts;

RowLookups test_lookups() {
  return {[](std::string_view p) {
            if (is_e164(p)) return std::string(p);
            return p == "(415) 555-0100" ? std::string("+14155550100") : std::string();
          },
          [](std::string_view stage) { return stage == "Qualified"; },
          [](std::string_view zone) { return zone == "America/New_York"; },
          [](std::string_view t) { return parse_event_time(t).has_value(); }};
}

std::string problem(const char* row) {
  return contact_row_problem(sb::read_json(row), test_lookups());
}

TEST(ContactsImport, RowProblemsInOrder) {
  EXPECT_EQ(problem("[1]"), "NOT_AN_OBJECT");
  EXPECT_EQ(problem(R"({"phone": "+14155550100", "fax": 1})"), "UNKNOWN_FIELD");
  EXPECT_EQ(problem(R"({"firstName": "Ada"})"), "PHONE_MISSING");
  EXPECT_EQ(problem(R"({"phone": "555"})"), "PHONE_INVALID");
  EXPECT_EQ(problem(R"({"phone": "+14155550100", "otherPhones": ["x"]})"), "PHONE_INVALID");
  EXPECT_EQ(problem(R"({"phone": "(415) 555-0100"})"), "");
  EXPECT_EQ(problem(R"({"phone": "+14155550100", "email": "a b@c"})"), "EMAIL_INVALID");
  EXPECT_EQ(problem(R"({"phone": "+14155550100", "status": "won"})"), "STATUS_INVALID");
  EXPECT_EQ(problem(R"({"phone": "+14155550100", "tags": null})"), "TAGS_INVALID");
  EXPECT_EQ(problem(R"({"phone": "+14155550100", "customFields": []})"), "CUSTOM_FIELDS_INVALID");
  EXPECT_EQ(problem(R"({"phone": "+14155550100", "stage": "Won"})"), "PIPELINE_STAGE_NOT_FOUND");
  EXPECT_EQ(problem(R"({"phone": "+14155550100", "ownerId": "42"})"), "ID_INVALID");
  EXPECT_EQ(problem(R"({"phone": "+14155550100", "timezone": "Mars/Base"})"), "TIMEZONE_INVALID");
  EXPECT_EQ(problem(R"({"phone": "+14155550100", "doNotCall": "yes"})"), "FLAG_INVALID");
  EXPECT_EQ(problem(R"({"phone": "+14155550100", "consentAt": "yesterday"})"),
            "CONSENT_AT_INVALID");
  EXPECT_EQ(problem(R"({"phone": "+14155550100", "firstName": "Ada", "stage": "Qualified",
                        "timezone": "America/New_York", "tags": ["a"], "doNotSms": false})"),
            "");
}

TEST(ContactsImport, MergesPerPhoneAndCountsRows) {
  auto checked = check_contact_rows(
      sb::read_json(R"([{"phone": "+14155550100", "firstName": "Ada", "tags": ["a"]},
                        {"phone": "(415) 555-0100", "firstName": "Ada L."},
                        {"phone": "bad"}, {"phone": "+14155550101"}])"),
      test_lookups(), 10);
  EXPECT_EQ(checked.good, 3u);
  ASSERT_EQ(checked.contacts.size(), 2u);
  EXPECT_EQ(sb::json_text(checked.contacts[0]),
            R"({"phone":"+14155550100","firstName":"Ada L.","tags":["a"]})");
  ASSERT_EQ(checked.rejected.size(), 1u);
  EXPECT_EQ(checked.rejected[0].row, 2u);
  EXPECT_THROW(check_contact_rows(sb::read_json("{}"), test_lookups(), 10), sb::Error);
  EXPECT_THROW(check_contact_rows(sb::read_json("[1, 2, 3]"), test_lookups(), 2), sb::Error);
}

// The fuzz finding of the fifth round (tests/fuzz/corpus/contacts_import/duplicate_phone): a row
// writing `phone` twice is read as jsonb reads it, the last value winning, so it is refused
// (PHONE_INVALID) and never merged into the contact of its first phone.
TEST(ContactsImport, ARepeatedKeyIsReadAsJsonbReadsIt) {
  const char* rows = R"([{"phone": "+14155550101", "email": "a@b"},
                         {"phone": "+14155550101", "phone": "a@b"},
                         {"phone": "a@b", "phone": "+14155550102", "firstName": "Cy"}])";
  auto checked = check_contact_rows(sb::read_json(rows), test_lookups(), 10);
  EXPECT_EQ(checked.good, 2u);
  ASSERT_EQ(checked.rejected.size(), 1u);
  EXPECT_EQ(checked.rejected[0].row, 1u);
  EXPECT_EQ(checked.rejected[0].reason, "PHONE_INVALID");
  ASSERT_EQ(checked.contacts.size(), 2u);
  EXPECT_EQ(sb::json_text(checked.contacts[0]), R"({"phone":"+14155550101","email":"a@b"})");
  EXPECT_EQ(sb::json_text(checked.contacts[1]), R"({"phone":"+14155550102","firstName":"Cy"})");
}

// The text of projected column `name` ("NULL" for none).
std::string projected(const std::vector<CallColumn>& columns, std::string_view name) {
  for (const CallColumn& column : columns)
    if (name == column.name) return column.text ? *column.text : "NULL";
  return "missing";
}

TEST(ContactsProjection, ColumnsAndOutcome) {
  auto columns = call_projection(sb::read_json(
      R"({"status": [4e13, "completed"], "answered_by": [1, "machine_end_beep"],
          "cost": [1, 0.25], "duration_seconds": [1, 42], "transcript": [1, null],
          "summary": {"1": "kept"}, "ended_reason": [1, {"a": 1}], "direction": [1]})"));
  EXPECT_EQ(projected(columns, "status"), "completed");
  EXPECT_EQ(projected(columns, "outcome"), "voicemail");
  EXPECT_EQ(projected(columns, "cost"), "0.25");
  EXPECT_EQ(projected(columns, "duration_seconds"), "42");
  EXPECT_EQ(projected(columns, "transcript"), "NULL");
  EXPECT_EQ(projected(columns, "summary"), "kept");  // #>> reads member "1" of an object too
  EXPECT_EQ(projected(columns, "ended_reason"), R"({"a": 1})");  // as jsonb prints it
  EXPECT_EQ(projected(columns, "direction"), "NULL");
  auto open = call_projection(sb::read_json("{}"));
  EXPECT_EQ(projected(open, "status"), "queued");
  EXPECT_EQ(projected(open, "outcome"), "NULL");
}

TEST(ContactsProjection, Outcomes) {
  EXPECT_EQ(call_outcome("completed", std::nullopt), "connected");
  EXPECT_EQ(call_outcome("completed", std::string("human")), "connected");
  EXPECT_EQ(call_outcome("completed", std::string("fax")), "voicemail");
  EXPECT_EQ(call_outcome("completed", std::string("machine_start")), "voicemail");
  EXPECT_EQ(call_outcome("canceled", std::nullopt), "failed");
  EXPECT_EQ(call_outcome("busy", std::nullopt), "busy");
  EXPECT_EQ(call_outcome("no_answer", std::nullopt), "no_answer");
  EXPECT_EQ(call_outcome("in_progress", std::nullopt), std::nullopt);
}

}  // namespace
