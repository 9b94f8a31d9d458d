// check_contact_rows (core/contacts/contacts_import). Input: a JSON array of contact rows.
// Properties: every row is either rejected with a reason or counted good; the merged contacts have
// distinct phones, each in the form phone_of gave; only a non-array (or too many rows) is an error.
#include <cstdint>
#include <set>
#include <string>

#include "core/base/base_error.hpp"
#include "core/contacts/contacts_fold.hpp"
#include "core/contacts/contacts_import.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  sb::Json rows;
  try {
    rows = sb::read_json(sb::fuzz::text_of(data, size));
  } catch (const sb::Error&) {
    return 0;
  }
  sb::contacts::RowLookups lookups{
      [](std::string_view p) { return sb::contacts::is_e164(p) ? std::string(p) : std::string(); },
      [](std::string_view stage) { return stage == "Qualified"; },
      [](std::string_view zone) { return zone == "UTC" || zone == "America/New_York"; },
      [](std::string_view t) { return sb::contacts::parse_event_time(t).has_value(); }};
  try {
    auto checked = sb::contacts::check_contact_rows(rows, lookups, 1000);
    sb::fuzz::require(rows.kind == sb::Json::Kind::array, "only an array is checked");
    sb::fuzz::require(checked.good + checked.rejected.size() == rows.items.size(),
                      "every row is good or rejected");
    std::set<std::string> phones;
    for (const auto& c : checked.contacts) {
      const sb::Json* phone = c.find("phone");
      sb::fuzz::require(phone && sb::contacts::is_e164(phone->text),
                        "a contact has its E.164 phone");
      sb::fuzz::require(phones.insert(phone->text).second, "one contact per phone");
    }
    sb::fuzz::require(checked.contacts.size() <= checked.good, "merging never adds contacts");
  } catch (const sb::Error& e) {
    sb::fuzz::require(std::string(e.sqlstate()) == "22023", "a refusal is 22023");
  }
  return 0;
}
