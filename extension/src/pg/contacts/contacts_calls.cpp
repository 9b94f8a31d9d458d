// record_call_event and its parts: a provider event read into C++, its fold entries
// (core/contacts/contacts_fold), then the call row locked, folded and written only when the fold
// changed (a duplicate or an older event writes nothing). The projection of the fold into the
// call's columns and the rollups stay in the table's triggers (extension/sql/70_contacts).
#include "pg/base/base_boundary.hpp"
#include "pg/base/base_datums.hpp"
#include "pg/base/base_store.hpp"
#include "pg/tenancy/tenancy_access.hpp"

#include <string>

#include "core/base/base_error.hpp"
#include "core/contacts/contacts_fold.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/jsonb.h"
}

namespace {

namespace ct = sb::contacts;
using sb::pg::Query;
using sb::pg::ReadMode;
using sb::pg::TextRows;

#define SB_THIS_CALL_WHERE                                                             \
  " where c.org_id OPERATOR(pg_catalog.=) $1 and c.provider OPERATOR(pg_catalog.=) $2" \
  " and c.provider_call_id OPERATOR(pg_catalog.=) $3"
#define SB_THIS_CALL " from switchboard.calls c" SB_THIS_CALL_WHERE
#define SB_CALL_ANSWER "c.id, c.status, c.outcome, c.contact_id"

Query lock_call_query = {"select " SB_CALL_ANSWER ", c.fold::pg_catalog.text" SB_THIS_CALL
                         " for update",
                         3,
                         {UUIDOID, TEXTOID, TEXTOID}};
Query insert_call_query = {
    "insert into switchboard.calls as c (org_id, provider, provider_call_id, fold)"
    " values ($1, $2, $3, $4) on conflict on constraint calls_provider_key do nothing"
    " returning " SB_CALL_ANSWER,
    4,
    {UUIDOID, TEXTOID, TEXTOID, JSONBOID}};
Query update_call_query = {"update switchboard.calls c set fold = $4" SB_THIS_CALL_WHERE
                           " returning " SB_CALL_ANSWER,
                           4,
                           {UUIDOID, TEXTOID, TEXTOID, JSONBOID}};

Query emit_completed_query = {
    "select switchboard.contacts_emit_event($1, 'call.completed', $2)", 2, {UUIDOID, JSONBOID}};

// A jsonb argument, required (22023 naming it when NULL).
sb::Json jsonb_arg(FunctionCallInfo fcinfo, int n, const char* name) {
  sb::pg::require_arg(fcinfo, n, name);
  Datum value = 0;
  sb::pg::guard([&] { value = PointerGetDatum(PG_GETARG_JSONB_P(n)); });
  return sb::pg::jsonb_value(value);
}

// A jsonb argument that may be NULL (then an empty object).
sb::Json fold_arg(FunctionCallInfo fcinfo, int n) {
  if (!PG_ARGISNULL(n)) return jsonb_arg(fcinfo, n, "fold");
  sb::Json empty;
  empty.kind = sb::Json::Kind::object;
  return empty;
}

// Ensures: the facts of the event of arguments 1 (provider) and 2 (event).
ct::CallFacts facts_arg(FunctionCallInfo fcinfo, std::string* provider) {
  sb::pg::require_arg(fcinfo, 1, "provider");
  *provider = std::string(sb::pg::text_arg(fcinfo, 1));
  sb::Json event = jsonb_arg(fcinfo, 2, "event");
  ct::CallFacts facts = ct::call_event_facts(*provider, event);
  if (!facts.call_id || facts.call_id->empty()) throw ct::missing_call_id_error(*provider, event);
  return facts;
}

// Column `column` of the first row ("" for NULL).
std::string_view cell(const TextRows& row, int column) {
  return row.at(0, column) ? row.at(0, column) : "";
}

// Ensures: a call that has just got its outcome (was open before: `outcome_before` empty) emits
// call.completed in this transaction.
void emit_if_completed(const Datum* key, const TextRows& row, std::string_view outcome_before) {
  if (!outcome_before.empty() || cell(row, 2).empty()) return;
  sb::JsonWriter payload;
  payload.begin_object().field("callId", cell(row, 0)).field("status", cell(row, 1));
  payload.field("outcome", cell(row, 2)).field("contactId", cell(row, 3)).end_object();
  Datum args[2] = {key[0], sb::pg::jsonb_datum(payload.text())};
  spi_query(emit_completed_query, args, nullptr, ReadMode::read_write);
}

// The answer of record_call_event from a row of SB_CALL_ANSWER.
Datum folded_answer(const TextRows& row) {
  sb::JsonWriter out(sb::JsonWriter::Output::tokens);
  out.begin_object().field("reason", std::string_view("FOLDED")).field("callId", cell(row, 0));
  out.field("status", cell(row, 1)).field("outcome", cell(row, 2)).field("contactId", cell(row, 3));
  return sb::pg::jsonb_datum(out.end_object());
}

}  // namespace

// _call_event_facts(provider text, event jsonb) -> jsonb {callId, facts}: callId null for an
// event that is not about a call (the SQL wrapper call_event_facts gives them as columns).
SB_FUNCTION(sb_call_event_facts) {
  sb::pg::require_arg(fcinfo, 0, "provider");
  ct::CallFacts facts =
      ct::call_event_facts(sb::pg::text_arg(fcinfo, 0), jsonb_arg(fcinfo, 1, "event"));
  sb::JsonWriter out;
  out.begin_object().key("callId");
  if (facts.call_id)
    out.string(*facts.call_id);
  else
    out.null();
  std::string text = out.text() + ", \"facts\": " + sb::json_text(facts.facts) + "}";
  return sb::pg::jsonb_datum(text);
}

// call_fold(a jsonb, b jsonb) -> jsonb: the fold of two folds (NULL is the empty fold).
SB_FUNCTION(sb_call_fold) {
  return sb::pg::jsonb_datum(
      sb::json_text(ct::call_fold(fold_arg(fcinfo, 0), fold_arg(fcinfo, 1))));
}

// record_call_event(org_id uuid, provider text, event jsonb) -> jsonb: the event folded into the
// organisation's call row (created by its first event). Caller: agent or above, or service_role.
SB_FUNCTION(sb_record_call_event) {
  sb::Uuid org = sb::pg::uuid_arg(fcinfo, 0, "org_id");
  sb::pg::require_role(org, sb::Role::agent);
  std::string provider;
  ct::CallFacts facts = facts_arg(fcinfo, &provider);
  std::string facts_text = sb::json_text(facts.facts);
  Datum args[4] = {sb::pg::uuid_datum(org), sb::pg::text_datum(provider),
                   sb::pg::text_datum(*facts.call_id), 0};
  for (int attempt = 0; attempt < 3; ++attempt) {
    TextRows row = spi_query(lock_call_query, args, nullptr, ReadMode::read_write);
    if (row.count == 0) {
      args[3] = sb::pg::jsonb_datum(facts_text);
      TextRows inserted = spi_query(insert_call_query, args, nullptr, ReadMode::read_write);
      if (inserted.count == 1) {
        emit_if_completed(args, inserted, "");
        return folded_answer(inserted);
      }
      continue;  // inserted concurrently: lock and fold into it
    }
    sb::Json before = sb::read_json(row.at(0, 4));
    std::string after = sb::json_text(ct::call_fold(before, facts.facts));
    if (after == sb::json_text(before)) return folded_answer(row);
    args[3] = sb::pg::jsonb_datum(after);
    TextRows updated = spi_query(update_call_query, args, nullptr, ReadMode::read_write);
    emit_if_completed(args, updated, cell(row, 2));
    return folded_answer(updated);
  }
  throw sb::Error("40001", "call changed concurrently while recording its event",
                  "Call " + *facts.call_id + " of provider " + provider +
                      " was not found after it was inserted.",
                  "Run the event again.");
}
