// Contact import rows: see contacts_import.hpp. The checks and their order are those of the
// contacts table's constraints and of import_contacts' answer.
#include "core/contacts/contacts_import.hpp"

#include <algorithm>
#include <unordered_map>

#include "core/base/base_error.hpp"

namespace sb::contacts {
namespace {

const char* const kFields[] = {
    "phone",    "otherPhones", "firstName",    "lastName",   "email",         "status",
    "source",   "tags",        "customFields", "stage",      "ownerId",       "campaignId",
    "timezone", "doNotCall",   "doNotSms",     "doNotEmail", "consentMethod", "consentAt"};
const char* const kStatuses[] = {"new", "contacted", "qualified", "booked", "converted", "lost"};

using Kind = Json::Kind;

// What `->>` gives for a member: nullptr for a JSON null or an absent member.
const Json* given(const Json& row, std::string_view key) {
  const Json* v = row.find(key);
  return v && v->kind != Kind::null ? v : nullptr;
}

// Characters (UTF-8 code points) of `text`.
std::size_t length(std::string_view text) {
  std::size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

// Whether member `key` is given and longer than `max` characters.
bool too_long(const Json& row, std::string_view key, std::size_t max) {
  const Json* v = given(row, key);
  return v && length(member_text(*v)) > max;
}

bool is_space(char c) {
  return c == ' ' || (c >= '\t' && c <= '\r');
}

// The rule of contacts_email_check: something@something, no spaces, one @.
bool email_ok(std::string_view email) {
  auto at = email.find('@');
  if (at == 0 || at == std::string_view::npos || at + 1 == email.size()) return false;
  if (email.find('@', at + 1) != std::string_view::npos) return false;
  return std::none_of(email.begin(), email.end(), is_space);
}

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// 8-4-4-4-12 hexadecimal digits, either case.
bool uuid_ok(std::string_view text) {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < 36; ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? text[i] != '-' : !is_hex(text[i])) return false;
  }
  return true;
}

// Whether member `key`, when present at all (even as null), is an array of strings, each
// satisfying `ok`.
template <typename Ok>
bool array_ok(const Json& row, std::string_view key, Ok ok) {
  const Json* v = row.find(key);
  if (!v) return true;
  if (v->kind != Kind::array) return false;
  return std::all_of(v->items.begin(), v->items.end(),
                     [&](const Json& item) { return item.kind == Kind::string && ok(item.text); });
}

bool has_other_than_phones(const Json& row) {
  return std::any_of(row.members.begin(), row.members.end(),
                     [](const auto& m) { return m.first != "phone" && m.first != "otherPhones"; });
}

// The problems after the phone checks, in the order import_contacts reports them.
std::string detail_problem(const Json& row, const RowLookups& lookups) {
  if (too_long(row, "firstName", 200) || too_long(row, "lastName", 200)) return "NAME_TOO_LONG";
  if (const Json* email = given(row, "email"); email && !email_ok(member_text(*email)))
    return "EMAIL_INVALID";
  if (const Json* status = given(row, "status")) {
    std::string s = member_text(*status);
    if (std::find(std::begin(kStatuses), std::end(kStatuses), s) == std::end(kStatuses))
      return "STATUS_INVALID";
  }
  if (too_long(row, "source", 100)) return "SOURCE_TOO_LONG";
  if (!array_ok(row, "tags", [](const std::string&) { return true; })) return "TAGS_INVALID";
  if (const Json* fields = row.find("customFields"); fields && fields->kind != Kind::object)
    return "CUSTOM_FIELDS_INVALID";
  if (const Json* stage = given(row, "stage"); stage && !lookups.stage_known(member_text(*stage)))
    return "PIPELINE_STAGE_NOT_FOUND";
  for (const char* key : {"ownerId", "campaignId"})
    if (const Json* id = given(row, key); id && !uuid_ok(member_text(*id))) return "ID_INVALID";
  if (const Json* zone = given(row, "timezone");
      zone && !lookups.timezone_known(member_text(*zone)))
    return "TIMEZONE_INVALID";
  for (const char* key : {"doNotCall", "doNotSms", "doNotEmail"})
    if (const Json* flag = row.find(key); flag && flag->kind != Kind::boolean)
      return "FLAG_INVALID";
  if (too_long(row, "consentMethod", 100)) return "CONSENT_METHOD_TOO_LONG";
  if (const Json* at = given(row, "consentAt"); at && !lookups.time_valid(member_text(*at)))
    return "CONSENT_AT_INVALID";
  return "";
}

// Ensures: `into` holds the members of `row` too, the row's replacing its own.
void merge_into(Json& into, const Json& row) {
  for (const auto& member : row.members) {
    const std::string& key = member.first;
    auto same = std::find_if(into.members.begin(), into.members.end(),
                             [&](const auto& m) { return m.first == key; });
    if (same == into.members.end())
      into.members.push_back(member);
    else
      same->second = member.second;
  }
}

// A good row with its phone numbers in E.164.
Json normalized(const Json& row, const RowLookups& lookups) {
  Json out = row;
  for (auto& [key, value] : out.members) {
    if (key == "phone") value.text = lookups.phone_of(member_text(value));
    if (key == "otherPhones")
      for (auto& item : value.items) item.text = lookups.phone_of(item.text);
    if (key == "phone") value.kind = Kind::string;
  }
  return out;
}

std::string rows_text(const Json& rows) {
  std::string text = jsonb_text(rows);
  std::size_t at = 0;
  for (std::size_t chars = 0; at < text.size() && chars < 100; ++chars) {
    ++at;
    while (at < text.size() && (static_cast<unsigned char>(text[at]) & 0xC0) == 0x80) ++at;
  }
  return text.substr(0, at);
}

}  // namespace

std::string member_text(const Json& v) {
  if (v.kind == Kind::string || v.kind == Kind::number) return v.text;
  if (v.kind == Kind::boolean) return v.boolean ? "true" : "false";
  return jsonb_text(v);
}

std::string contact_row_problem(const Json& row, const RowLookups& lookups) {
  if (row.kind != Kind::object) return "NOT_AN_OBJECT";
  for (const auto& m : row.members)
    if (std::find(std::begin(kFields), std::end(kFields), m.first) == std::end(kFields))
      return "UNKNOWN_FIELD";
  const Json* phone = given(row, "phone");
  if (!phone) return "PHONE_MISSING";
  auto phone_ok = [&](const std::string& text) { return !lookups.phone_of(text).empty(); };
  if (!phone_ok(member_text(*phone)) || !array_ok(row, "otherPhones", phone_ok))
    return "PHONE_INVALID";
  if (!has_other_than_phones(row)) return "";
  return detail_problem(row, lookups);
}

CheckedRows check_contact_rows(const Json& rows, const RowLookups& lookups, std::size_t max_rows) {
  if (rows.kind != Kind::array)
    throw Error("22023", "contact rows must be a json array", "rows: " + rows_text(rows));
  if (rows.items.size() > max_rows)
    throw Error("22023", "too many contact rows", "rows: " + std::to_string(rows.items.size()),
                "import at most " + std::to_string(max_rows) + " rows per call");
  CheckedRows out;
  std::unordered_map<std::string, std::size_t> by_phone;
  for (std::size_t i = 0; i < rows.items.size(); ++i) {
    const Json& row = rows.items[i];
    std::string problem = contact_row_problem(row, lookups);
    if (!problem.empty()) {
      out.rejected.push_back({i, std::move(problem)});
      continue;
    }
    ++out.good;
    Json normal = normalized(row, lookups);
    auto [at, fresh] = by_phone.emplace(normal.find("phone")->text, out.contacts.size());
    if (fresh)
      out.contacts.push_back(std::move(normal));
    else
      merge_into(out.contacts[at->second], normal);
  }
  return out;
}

}  // namespace sb::contacts
