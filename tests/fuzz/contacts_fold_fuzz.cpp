// call_event_facts, parse_event_time and call_fold (core/contacts/contacts_fold). Input: the
// provider, then two events (JSON text), one a line. Properties: folding is commutative,
// idempotent and associative, whatever the events say, and every fold entry is [number, value].
#include <algorithm>
#include <cstdint>
#include <string>

#include "core/base/base_error.hpp"
#include "core/contacts/contacts_fold.hpp"
#include "fuzz_support.hpp"

namespace {

// A fold's members in name order, rendered: equal folds give equal text.
std::string canonical(sb::Json fold) {
  std::sort(fold.members.begin(), fold.members.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return sb::json_text(fold);
}

// The facts of one event, or an empty fold when it is refused.
sb::Json facts_of(std::string_view provider, std::string_view text) {
  sb::Json empty;
  empty.kind = sb::Json::Kind::object;
  try {
    auto facts = sb::contacts::call_event_facts(provider, sb::read_json(text));
    for (const auto& [field, entry] : facts.facts.members)
      sb::fuzz::require(entry.kind == sb::Json::Kind::array && entry.items.size() == 2 &&
                            entry.items[0].kind == sb::Json::Kind::number,
                        "a fold entry is [number, value]");
    return facts.facts;
  } catch (const sb::Error&) {
    return empty;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto f = sb::fuzz::fields(sb::fuzz::text_of(data, size), 4);
  (void)sb::contacts::parse_event_time(f[1]);
  sb::Json a = facts_of(f[0], f[1]), b = facts_of(f[0], f[2]), c = facts_of(f[0], f[3]);
  using sb::contacts::call_fold;
  sb::fuzz::require(canonical(call_fold(a, b)) == canonical(call_fold(b, a)), "fold commutes");
  sb::fuzz::require(canonical(call_fold(call_fold(a, b), b)) == canonical(call_fold(a, b)),
                    "folding an event twice changes nothing");
  sb::fuzz::require(
      canonical(call_fold(call_fold(a, b), c)) == canonical(call_fold(a, call_fold(b, c))),
      "fold is associative");
  return 0;
}
