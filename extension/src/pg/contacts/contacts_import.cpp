// The C++ half of import_contacts: every row checked (core/contacts/contacts_import) with the
// organisation's stages, PostgreSQL's time zones and its timestamptz reading as lookups, and the
// good rows merged per phone, returned as typed rows (no JSON between the halves) for the SQL
// half's one UPDATE and one INSERT.
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
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
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

// The columns of switchboard.contact_import_row, in order.
enum Column {
  kRejectedRow,
  kReason,
  kPhone,
  kKeys,
  kZone,
  kOtherPhones,
  kFirstName,
  kLastName,
  kEmail,
  kStatus,
  kSource,
  kTags,
  kCustomFields,
  kStage,
  kOwnerId,
  kCampaignId,
  kTimezone,
  kDoNotCall,
  kDoNotSms,
  kDoNotEmail,
  kConsentMethod,
  kConsentAt,
  kColumns
};

// The column of each member an import row may give.
const std::pair<const char*, Column> kMemberColumns[] = {{"phone", kPhone},
                                                         {"otherPhones", kOtherPhones},
                                                         {"firstName", kFirstName},
                                                         {"lastName", kLastName},
                                                         {"email", kEmail},
                                                         {"status", kStatus},
                                                         {"source", kSource},
                                                         {"tags", kTags},
                                                         {"customFields", kCustomFields},
                                                         {"stage", kStage},
                                                         {"ownerId", kOwnerId},
                                                         {"campaignId", kCampaignId},
                                                         {"timezone", kTimezone},
                                                         {"doNotCall", kDoNotCall},
                                                         {"doNotSms", kDoNotSms},
                                                         {"doNotEmail", kDoNotEmail},
                                                         {"consentMethod", kConsentMethod},
                                                         {"consentAt", kConsentAt}};

// One cell of a result row, before it becomes a Datum: NULL, text (read by the column type's
// input function), a text array, a boolean, an integer or a Datum built already.
struct Cell {
  enum class Kind { null, text, texts, boolean, integer, datum } kind = Kind::null;
  std::string text;
  std::vector<std::string> texts;
  bool flag = false;
  int integer = 0;
  Datum datum = 0;
};

// Ensures: `value` written to `out` (tokens for jsonb, no text to parse).
void write_json(sb::JsonWriter& out, const sb::Json& value) {
  using Kind = sb::Json::Kind;
  if (value.kind == Kind::null) out.null();
  if (value.kind == Kind::boolean) out.boolean(value.boolean);
  if (value.kind == Kind::number) out.raw_number(value.text);
  if (value.kind == Kind::string) out.string(value.text);
  if (value.kind == Kind::array) {
    out.begin_array();
    for (const sb::Json& item : value.items) write_json(out, item);
    out.end_array();
  }
  if (value.kind == Kind::object) {
    out.begin_object();
    for (const auto& [key, member] : value.members) write_json(out.key(key), member);
    out.end_object();
  }
}

Cell text_cell(std::string text) {
  Cell cell;
  cell.kind = Cell::Kind::text;
  cell.text = std::move(text);
  return cell;
}

Cell texts_cell(std::vector<std::string> texts) {
  Cell cell;
  cell.kind = Cell::Kind::texts;
  cell.texts = std::move(texts);
  return cell;
}

// The cell of a member's value in its column (arrays of strings for tags and otherPhones, JSON
// text for customFields, booleans for the flags, else the text `->>` gives).
Cell member_cell(Column column, const sb::Json& value) {
  Cell cell;
  if (value.kind == sb::Json::Kind::null) return cell;
  if (column == kTags || column == kOtherPhones) {
    std::vector<std::string> items;
    for (const sb::Json& item : value.items) items.push_back(item.text);
    return texts_cell(std::move(items));
  }
  if (column == kCustomFields) {
    sb::JsonWriter json(sb::JsonWriter::Output::tokens);
    write_json(json, value);
    cell.kind = Cell::Kind::datum;
    cell.datum = sb::pg::jsonb_datum(json);
    return cell;
  }
  if (column == kDoNotCall || column == kDoNotSms || column == kDoNotEmail) {
    cell.kind = Cell::Kind::boolean;
    cell.flag = value.boolean;
    return cell;
  }
  return text_cell(ct::member_text(value));
}

// The cells of one merged row: its members, the keys it gives, and zone: the time zone derived
// from the number when it gives none.
std::vector<Cell> contact_cells(const sb::Json& row) {
  std::vector<Cell> cells(kColumns);
  std::vector<std::string> keys;
  for (const auto& [key, value] : row.members) {
    keys.push_back(key);
    for (const auto& [name, column] : kMemberColumns)
      if (key == name) cells[column] = member_cell(column, value);
  }
  cells[kKeys] = texts_cell(std::move(keys));
  if (!row.find("timezone")) {
    std::vector<std::string> zones =
        sb::pg::phone_zone_map().zones_of(std::string_view(row.find("phone")->text).substr(1));
    if (zones.size() == 1) cells[kZone] = text_cell(zones[0]);
  }
  return cells;
}

// The cells of one rejected row.
std::vector<Cell> rejected_cells(const ct::RejectedRow& rejected) {
  std::vector<Cell> cells(kColumns);
  cells[kRejectedRow].kind = Cell::Kind::integer;
  cells[kRejectedRow].integer = static_cast<int>(rejected.row);
  cells[kReason] = text_cell(rejected.reason);
  return cells;
}

// A text array Datum (call inside guard).
Datum text_array(const std::vector<std::string>& texts) {
  Datum* items = static_cast<Datum*>(palloc(sizeof(Datum) * (texts.size() + 1)));
  for (std::size_t i = 0; i < texts.size(); ++i)
    items[i] = PointerGetDatum(cstring_to_text_with_len(texts[i].data(), texts[i].size()));
  return PointerGetDatum(
      construct_array(items, static_cast<int>(texts.size()), TEXTOID, -1, false, TYPALIGN_INT));
}

// Ensures: the rows are the set-returning function's result (contact_import_row), each cell read
// by its column's type (call inside guard).
void put_rows(FunctionCallInfo fcinfo, const std::vector<std::vector<Cell>>& rows) {
  InitMaterializedSRF(fcinfo, 0);
  auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  FmgrInfo inputs[kColumns];
  Oid params[kColumns];
  for (int c = 0; c < kColumns; ++c) {
    Oid input;
    getTypeInputInfo(TupleDescAttr(rsinfo->setDesc, c)->atttypid, &input, &params[c]);
    fmgr_info(input, &inputs[c]);
  }
  Datum values[kColumns];
  bool nulls[kColumns];
  for (std::size_t r = 0; r < rows.size(); ++r) {
    if (r % 1000 == 0) CHECK_FOR_INTERRUPTS();
    for (int c = 0; c < kColumns; ++c) {
      const Cell& cell = rows[r][c];
      nulls[c] = cell.kind == Cell::Kind::null;
      values[c] = 0;
      if (cell.kind == Cell::Kind::text)
        values[c] = InputFunctionCall(&inputs[c], const_cast<char*>(cell.text.c_str()), params[c],
                                      TupleDescAttr(rsinfo->setDesc, c)->atttypmod);
      if (cell.kind == Cell::Kind::texts) values[c] = text_array(cell.texts);
      if (cell.kind == Cell::Kind::boolean) values[c] = BoolGetDatum(cell.flag);
      if (cell.kind == Cell::Kind::integer) values[c] = Int32GetDatum(cell.integer);
      if (cell.kind == Cell::Kind::datum) values[c] = cell.datum;
    }
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
  }
}

}  // namespace

// _contact_rows_checked(org_id uuid, rows jsonb) -> setof contact_import_row: the rejected rows
// (rejected_row, reason) and the good ones merged per phone (see contact_cells). Caller: agent or
// above, or service_role.
SB_FUNCTION(sb_contact_rows_checked) {
  Lookups lookups{sb::pg::uuid_arg(fcinfo, 0, "org_id"), nullptr, nullptr};
  sb::pg::require_role(lookups.org, sb::Role::agent);
  sb::pg::require_arg(fcinfo, 1, "rows");
  Datum rows = 0;
  sb::pg::guard([&] { rows = PointerGetDatum(PG_GETARG_JSONB_P(1)); });
  ct::CheckedRows checked =
      ct::check_contact_rows(sb::pg::jsonb_value(rows), lookups.functions(), kMaxRows);
  std::vector<std::vector<Cell>> out;
  for (const ct::RejectedRow& rejected : checked.rejected) out.push_back(rejected_cells(rejected));
  for (std::size_t i = 0; i < checked.contacts.size(); ++i) {
    if (i % 1000 == 0) sb::pg::check_for_interrupts();
    out.push_back(contact_cells(checked.contacts[i]));
  }
  sb::pg::guard([&] { put_rows(fcinfo, out); });
  return PointerGetDatum(nullptr);
}
