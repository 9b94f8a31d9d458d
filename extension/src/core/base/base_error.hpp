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

}  // namespace sb
