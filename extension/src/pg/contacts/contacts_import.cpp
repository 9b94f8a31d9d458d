// The C++ half of import_contacts: every row checked (core/contacts/contacts_import) with the
// organisation's stages, PostgreSQL's time zones and its timestamptz reading as lookups, and the
// good rows merged per phone for the SQL half's one UPDATE and one INSERT.
#include "pg/base/base_boundary.hpp"
#include "pg/base/base_datums.hpp"
#include "pg/base/base_store.hpp"
#include "pg/telephony/telephony_phone.hpp"
#include "pg/tenancy/tenancy_access.hpp"

#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/base/base_error.hpp"
#include "core/contacts/contacts_fold.hpp"
#include "core/contacts/contacts_import.hpp"
#include "core/telephony/telephony_phone.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/jsonb.h"
}

namespace {

namespace ct = sb::contacts;
using sb::pg::Query;
using sb::pg::ReadMode;
using sb::pg::TextRows;

constexpr std::size_t kMaxRows = 100000;

Query stages_query = {
    "select s.name from switchboard.pipeline_stages s where s.org_id OPERATOR(pg_catalog.=) $1",
    1,
    {UUIDOID}};
Query zones_query = {"select z.name from pg_catalog.pg_timezone_names z", 0, {}};
Query time_query = {"select switchboard._contacts_time($1) is not null", 1, {TEXTOID}};

using Names = std::unordered_set<std::string>;

// The first column of every row.
std::unique_ptr<Names> names_of(const TextRows& rows) {
  auto names = std::make_unique<Names>();
  for (uint64 i = 0; i < rows.count; ++i)
    if (rows.at(i, 0)) names->insert(rows.at(i, 0));
  return names;
}

// The E.164 form of a contact's phone input ("" when none): E.164 as given, else what
// libphonenumber reads as a valid number (national numbers as US ones), the rule of
// switchboard.contact_phone.
std::string phone_of(std::string_view input) {
  if (ct::is_e164(input)) return std::string(input);
  sb::tel::PhoneInfo info = sb::tel::phone_info(input, "US");
  return info.valid ? info.e164 : std::string();
}

// Ensures: the lookups of one import, each loaded on its first use.
struct Lookups {
  sb::Uuid org;
  std::unique_ptr<Names> stages, zones;

  ct::RowLookups functions() {
    return {phone_of,
            [this](std::string_view name) {
              if (!stages) {
                Datum args[1] = {sb::pg::uuid_datum(org)};
                stages = names_of(spi_query(stages_query, args, nullptr, ReadMode::current));
              }
              return stages->count(std::string(name)) > 0;
            },
            [this](std::string_view name) {
              if (!zones)
                zones = names_of(spi_query(zones_query, nullptr, nullptr, ReadMode::current));
              return zones->count(std::string(name)) > 0;
            },
            [](std::string_view text) {
              if (ct::parse_event_time(text)) return true;
              Datum args[1] = {sb::pg::text_datum(text)};
              TextRows valid = spi_query(time_query, args, nullptr, ReadMode::current);
              return valid.count == 1 && std::string_view(valid.at(0, 0)) == "t";
            }};
  }
};

// The time zone of a number whose prefix lies in exactly one, else null (as JSON): a lookup in
// phone_info's prefix map, without parsing the number again (it is E.164 already).
std::string zone_json(const std::string& e164) {
  std::vector<std::string> zones =
      sb::pg::phone_zone_map().zones_of(std::string_view(e164).substr(1));
  return zones.size() == 1 ? sb::json_quote(zones[0]) : "null";
}

// The answer for the SQL half: {good, left: [{phone, zone, r}], rejected: [{row, reason}]}, zone
// the one derived from the number for a row that gives no timezone.
std::string checked_json(const ct::CheckedRows& checked) {
  std::string out = "{\"good\": " + std::to_string(checked.good) + ", \"left\": [";
  for (std::size_t i = 0; i < checked.contacts.size(); ++i) {
    if (i % 1000 == 0) sb::pg::check_for_interrupts();
    const sb::Json& row = checked.contacts[i];
    const std::string& phone = row.find("phone")->text;
    out += i ? ", {\"phone\": " : "{\"phone\": ";
    out +=
        sb::json_quote(phone) + ", \"zone\": " + (row.find("timezone") ? "null" : zone_json(phone));
    out += ", \"r\": " + sb::json_text(row) + "}";
  }
  out += "], \"rejected\": [";
  for (std::size_t i = 0; i < checked.rejected.size(); ++i) {
    out += i ? ", {\"row\": " : "{\"row\": ";
    out += std::to_string(checked.rejected[i].row) + ", \"reason\": \"" +
           checked.rejected[i].reason + "\"}";
  }
  return out + "]}";
}

}  // namespace

// _contact_rows_checked(org_id uuid, rows jsonb) -> jsonb: the rows checked and merged per phone
// (see checked_json). Caller: agent or above, or service_role.
SB_FUNCTION(sb_contact_rows_checked) {
  Lookups lookups{sb::pg::uuid_arg(fcinfo, 0, "org_id"), nullptr, nullptr};
  sb::pg::require_role(lookups.org, sb::Role::agent);
  sb::pg::require_arg(fcinfo, 1, "rows");
  Datum rows = 0;
  sb::pg::guard([&] { rows = PointerGetDatum(PG_GETARG_JSONB_P(1)); });
  ct::CheckedRows checked =
      ct::check_contact_rows(sb::pg::jsonb_value(rows), lookups.functions(), kMaxRows);
  return sb::pg::jsonb_datum(checked_json(checked));
}
