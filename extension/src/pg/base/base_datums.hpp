// Converting between SQL call arguments / result Datums and C++ values, shared by every area.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/base/base_json.hpp"
#include "core/base/base_json_writer.hpp"
#include "core/base/base_uuid.hpp"
#include "pg/base/base_postgres.hpp"

namespace sb::pg {

// Ensures: argument `n` is not NULL (22023 "<name> must not be null": the wording of the SQL
// functions' switchboard.require_arg).
void require_arg(FunctionCallInfo fcinfo, int n, const char* name);

// A uuid argument, required (22023 naming it when NULL), and a text argument of the current call.
Uuid uuid_arg(FunctionCallInfo fcinfo, int n, const char* name = "org_id");
std::string_view text_arg(FunctionCallInfo fcinfo, int n);

// An idempotency key argument: none for NULL, else 1 to 255 characters (22023 naming the key). One
// rule for every command that takes a key (usage events, bookings).
std::optional<std::string> idempotency_key_arg(FunctionCallInfo fcinfo, int n);

// Datums for query arguments and results; valid until the SQL call returns.
Datum uuid_datum(const Uuid& id);
Datum text_datum(std::string_view text);

// Builds jsonb from JSON text.
Datum jsonb_datum(const std::string& json);
// The same built from a JsonWriter in tokens mode, without parsing text.
Datum jsonb_datum(const JsonWriter& json);

// Ensures: the value of a jsonb Datum as plain C++, read with PostgreSQL's jsonb API (numbers as
// jsonb prints them, members in jsonb's order); sb::Error 22P02 "invalid json" when it nests
// deeper than kJsonMaxDepth.
Json jsonb_value(Datum jsonb);

}  // namespace sb::pg
