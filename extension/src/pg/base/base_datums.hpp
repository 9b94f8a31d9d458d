// Converting between SQL call arguments / result Datums and C++ values, shared by every area.
#pragma once

#include <string>
#include <string_view>

#include "core/base/base_json_writer.hpp"
#include "core/base/base_uuid.hpp"
#include "pg/base/base_postgres.hpp"

namespace sb::pg {

// A uuid / text argument of the current SQL call.
Uuid uuid_arg(FunctionCallInfo fcinfo, int n);
std::string_view text_arg(FunctionCallInfo fcinfo, int n);

// Datums for query arguments and results; valid until the SQL call returns.
Datum uuid_datum(const Uuid& id);
Datum text_datum(std::string_view text);

// Builds jsonb from JSON text.
Datum jsonb_datum(const std::string& json);
// The same built from a JsonWriter in tokens mode, without parsing text.
Datum jsonb_datum(const JsonWriter& json);

}  // namespace sb::pg
