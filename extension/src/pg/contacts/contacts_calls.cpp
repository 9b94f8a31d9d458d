// record_call_event and its parts: a provider event read into C++, its fold entries
// (core/contacts/contacts_fold), then the call row locked, folded and written only when the fold
// changed (a duplicate or an older event writes nothing). The projection of the fold into the
// call's columns is the table's trigger _calls_project (here, in C++), the rollups are the
// table's other triggers (extension/sql/70_contacts).
#include "pg/base/base_boundary.hpp"
#include "pg/base/base_datums.hpp"
#include "pg/base/base_store.hpp"
#include "pg/tenancy/tenancy_access.hpp"

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/base/base_error.hpp"
#include "core/contacts/contacts_fold.hpp"

extern "C" {
#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
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

Query contact_of_query = {
    "select c.id from switchboard.contacts c where c.org_id OPERATOR(pg_catalog.=) $1"
    " and c.phone OPERATOR(pg_catalog.=) $2",
    2,
    {UUIDOID, TEXTOID}};

// The new columns of a call row, as text for their types' input functions.
struct RowChange {
  std::vector<int> columns;  // 1-based attribute numbers
  std::vector<std::optional<std::string>> texts;

  void set(TupleDesc desc, const char* name, std::optional<std::string> text) {
    int column = 0;
    sb::pg::guard([&] { column = SPI_fnumber(desc, name); });
    if (column <= 0)
      throw sb::Error("XX000", std::string("switchboard.calls has no column ") + name);
    columns.push_back(column);
    texts.push_back(std::move(text));
  }
};

// The text of column `name` of `tuple`, nullopt for NULL.
std::optional<std::string> column_text(HeapTuple tuple, TupleDesc desc, const char* name) {
  char* text = nullptr;
  sb::pg::guard([&] { text = SPI_getvalue(tuple, desc, SPI_fnumber(desc, name)); });
  return text ? std::optional<std::string>(text) : std::nullopt;
}

// The fold of a call row (an empty object for NULL, which its NOT NULL refuses later).
sb::Json fold_of(HeapTuple tuple, TupleDesc desc) {
  Datum fold = 0;
  bool null = true;
  sb::pg::guard([&] { fold = SPI_getbinval(tuple, desc, SPI_fnumber(desc, "fold"), &null); });
  if (!null) return sb::pg::jsonb_value(fold);
  sb::Json empty;
  empty.kind = sb::Json::Kind::object;
  return empty;
}

// The contact of the other party's number of a call row that has none yet, nullopt for none.
std::optional<std::string> contact_of(HeapTuple tuple, TupleDesc desc,
                                      const std::vector<ct::CallColumn>& columns) {
  const std::optional<std::string>& direction = columns[1].text;
  if (column_text(tuple, desc, "contact_id") || !direction) return std::nullopt;
  const std::optional<std::string>& phone =
      *direction == "inbound" ? columns[2].text : columns[3].text;
  if (!phone) return std::nullopt;
  Datum args[2] = {0, sb::pg::text_datum(*phone)};
  bool null = true;
  sb::pg::guard([&] { args[0] = SPI_getbinval(tuple, desc, SPI_fnumber(desc, "org_id"), &null); });
  if (null) return std::nullopt;  // its NOT NULL refuses the row
  TextRows row = spi_query(contact_of_query, args, nullptr, ReadMode::current);
  return row.count == 1 ? std::optional<std::string>(row.at(0, 0)) : std::nullopt;
}

// The input function of a type and its parameter, as getTypeInputInfo gives them.
struct TypeInput {
  FmgrInfo function;
  Oid param = InvalidOid;
};

// The input function of type `type`, looked up once per backend: its FmgrInfo lives in
// TopMemoryContext, so a domain's input (switchboard.phone) keeps its prepared checks between
// rows, following the domain's changes through the type cache.
const TypeInput& type_input(Oid type) {
  static std::unordered_map<Oid, TypeInput> inputs;
  auto found = inputs.find(type);
  if (found != inputs.end()) return found->second;
  TypeInput input;
  sb::pg::guard([&] {
    Oid function;
    getTypeInputInfo(type, &function, &input.param);
    fmgr_info_cxt(function, &input.function, TopMemoryContext);
  });
  return inputs.emplace(type, input).first->second;
}

// `tuple` with the changed columns, each read by its type's input function (domain checks
// included).
HeapTuple changed_tuple(HeapTuple tuple, TupleDesc desc, const RowChange& change) {
  std::size_t n = change.columns.size();
  std::vector<int> columns = change.columns;
  std::vector<const TypeInput*> inputs(n);
  for (std::size_t i = 0; i < n; ++i)
    inputs[i] = &type_input(TupleDescAttr(desc, change.columns[i] - 1)->atttypid);
  std::vector<Datum> values(n);
  std::unique_ptr<bool[]> nulls(new bool[n]);
  HeapTuple out = nullptr;
  sb::pg::guard([&] {
    for (std::size_t i = 0; i < n; ++i) {
      Form_pg_attribute attr = TupleDescAttr(desc, change.columns[i] - 1);
      FmgrInfo* input = const_cast<FmgrInfo*>(&inputs[i]->function);
      nulls[i] = !change.texts[i];
      char* text = nulls[i] ? nullptr : const_cast<char*>(change.texts[i]->c_str());
      values[i] = InputFunctionCall(input, text, inputs[i]->param, attr->atttypmod);
    }
    out = heap_modify_tuple_by_cols(tuple, desc, static_cast<int>(n), columns.data(), values.data(),
                                    nulls.get());
  });
  return out;
}

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

// call_outcome(status text, answered_by text) -> text: the dashboard outcome of a call (NULL
// while it is not over).
SB_FUNCTION(sb_call_outcome) {
  if (PG_ARGISNULL(0)) PG_RETURN_NULL();
  std::optional<std::string> answered_by;
  if (!PG_ARGISNULL(1)) answered_by = std::string(sb::pg::text_arg(fcinfo, 1));
  std::optional<std::string> outcome = ct::call_outcome(sb::pg::text_arg(fcinfo, 0), answered_by);
  if (!outcome) PG_RETURN_NULL();
  return sb::pg::text_datum(*outcome);
}

// _calls_project() trigger (BEFORE INSERT OR UPDATE OF fold, each row): the call's columns are
// the projection of its fold (core/contacts call_projection), and a call without a contact is
// linked to the contact of the other party's number.
SB_FUNCTION(sb_calls_project) {
  if (!CALLED_AS_TRIGGER(fcinfo))
    throw sb::Error("39P01", "_calls_project() must be called as a trigger");
  auto* trigger = reinterpret_cast<TriggerData*>(fcinfo->context);
  HeapTuple tuple =
      TRIGGER_FIRED_BY_UPDATE(trigger->tg_event) ? trigger->tg_newtuple : trigger->tg_trigtuple;
  TupleDesc desc = RelationGetDescr(trigger->tg_relation);
  std::vector<ct::CallColumn> columns = ct::call_projection(fold_of(tuple, desc));
  RowChange change;
  for (ct::CallColumn& column : columns) change.set(desc, column.name, column.text);
  if (std::optional<std::string> contact = contact_of(tuple, desc, columns))
    change.set(desc, "contact_id", contact);
  return PointerGetDatum(changed_tuple(tuple, desc, change));
}
