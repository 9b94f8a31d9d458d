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
  return Error("23505", "idempotency key already used for a different request", "key: " + key,
               "use a new key for a new request");
}

}  // namespace sb
