// Contact import rows: each row checked (the first problem as a reason code) and the good rows
// merged per phone, ready for one set-based write. Pure C++17: what needs the database (does the
// organisation have this stage, is this a time zone PostgreSQL knows, is this a time) comes in as
// callbacks from pg/contacts/contacts_import.cpp.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/base_json.hpp"

namespace sb::contacts {

// The lookups a row check needs from the database and libphonenumber.
struct RowLookups {
  std::function<std::string(std::string_view)> phone_of;  // the E.164 form, "" when none
  std::function<bool(std::string_view)> stage_known;      // the organisation has a stage so named
  std::function<bool(std::string_view)> timezone_known;   // a name of pg_timezone_names
  std::function<bool(std::string_view)> time_valid;       // text PostgreSQL reads as timestamptz
};

// The first problem of one import row (NOT_AN_OBJECT, UNKNOWN_FIELD, PHONE_MISSING,
// PHONE_INVALID, NAME_TOO_LONG, EMAIL_INVALID, STATUS_INVALID, SOURCE_TOO_LONG, TAGS_INVALID,
// CUSTOM_FIELDS_INVALID, PIPELINE_STAGE_NOT_FOUND, ID_INVALID, TIMEZONE_INVALID, FLAG_INVALID,
// CONSENT_METHOD_TOO_LONG, CONSENT_AT_INVALID), or "" when it can be stored.
// `row` is the row as given; its phone numbers are read with lookups.phone_of.
std::string contact_row_problem(const Json& row, const RowLookups& lookups);

// The text of a member's value as `->>` gives it: a string's value, a number's literal, true or
// false, objects and arrays as jsonb prints them.
std::string member_text(const Json& value);

// One rejected row: its index in the input and the reason.
struct RejectedRow {
  std::size_t row;
  std::string reason;
};

// The outcome of checking every row: the good rows, their phone numbers in E.164 (phone_of),
// merged into one object per phone (a later row's keys win; first-seen phone order) and the
// rejected rows in input order.
struct CheckedRows {
  std::vector<Json> contacts;
  std::size_t good = 0;  // good rows before merging (inserted + merged counts them)
  std::vector<RejectedRow> rejected;
};

// Ensures: `rows` (a json array) checked and merged; sb::Error 22023 when it is not an array or
// holds more than `max_rows` rows.
CheckedRows check_contact_rows(const Json& rows, const RowLookups& lookups, std::size_t max_rows);

}  // namespace sb::contacts
