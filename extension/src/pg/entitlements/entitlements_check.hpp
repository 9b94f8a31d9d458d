// Evaluating an organisation's access to a feature, including metered usage in its period.
#pragma once

#include <memory>
#include <string_view>

#include "core/entitlements/entitlements.hpp"
#include "core/base/base_uuid.hpp"
#include "pg/base/base_datums.hpp"
#include "pg/base/base_store.hpp"
#include "pg/base/base_time.hpp"

namespace sb::pg {

// A usage counter row: settled use, live reservations, and overage counted so far.
struct Usage {
  int64_t used = 0;
  int64_t reserved = 0;
  int64_t overage = 0;
};

struct Evaluation {
  std::shared_ptr<const ent::Catalog> catalog;  // keeps decision.feature alive
  std::shared_ptr<const ent::OrgState> org;
  ent::Decision decision;
  Window window;  // metered features: the current usage period
  Usage usage;
  std::optional<int64_t> remaining;  // metered features with a limit
};

// The feature argument: NULL or empty is bad input (22023); an unknown key is an answer
// (UNKNOWN_FEATURE), decided later.
std::string_view feature_arg(FunctionCallInfo fcinfo, int n);

// A positive (or, with zero_ok, non-negative) integer argument, int4 or int8 (22023 naming it).
int64_t positive_arg(FunctionCallInfo fcinfo, int n, const char* name, bool zero_ok = false);

// Decides access for `quantity` more units (precedence, then the hard limit of metered features).
Evaluation evaluate(const Uuid& org, std::string_view feature, int64_t quantity);

// Applies the grant's hard limit to `quantity` more units and fills `remaining`.
void apply_limit(Evaluation& e, int64_t quantity);

}  // namespace sb::pg
