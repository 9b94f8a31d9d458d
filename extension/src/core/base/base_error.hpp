// Errors raised by core code; the PostgreSQL boundary turns them into ereport with their SQLSTATE.
#pragma once

#include <stdexcept>
#include <string>

namespace sb {

// An error with a five-character SQLSTATE, a lowercase message and optional detail and hint.
class Error : public std::runtime_error {
 public:
  Error(const char* sqlstate, std::string message, std::string detail = {}, std::string hint = {})
      : std::runtime_error(std::move(message)), detail_(std::move(detail)), hint_(std::move(hint)) {
    for (int i = 0; i < 5; ++i) sqlstate_[i] = sqlstate[i];
    sqlstate_[5] = '\0';
  }
  const char* sqlstate() const noexcept { return sqlstate_; }
  const std::string& detail() const noexcept { return detail_; }
  const std::string& hint() const noexcept { return hint_; }

 private:
  char sqlstate_[6];
  std::string detail_;
  std::string hint_;
};

// The error for an idempotency key used again with other parameters: one rule and one wording
// for every command that takes a key (usage and booking).
inline Error reused_key_error(const std::string& key) {
  return Error("23505", "idempotency key already used for a different request",
               "Key \"" + key + "\" was first used for another request.",
               "Use a new key for a new request.");
}

// The error for an organisation id that names no organisation: the wording of
// switchboard.require_organization, for C++ code that looks the organisation up itself.
inline Error organization_not_found_error(const std::string& org_id) {
  return Error("P0002", "organization not found", "No organization has the id " + org_id + ".");
}

// The detail naming a value given for a parameter: "The <name> given was <value>." ("were" for
// a plural name such as options), one wording for every range and shape check.
inline std::string given_detail(const std::string& name, const std::string& value) {
  bool plural = !name.empty() && name.back() == 's';
  return "The " + name + (plural ? " given were " : " given was ") + value + ".";
}

// The error for a parameter that must be a json object: "<name> must be a json object", the
// detail naming the value given (its json text).
inline Error not_json_object_error(const std::string& name, const std::string& value) {
  return Error("22023", name + " must be a json object", given_detail(name, value));
}

}  // namespace sb
