// The cost of phone-number normalisation outside PostgreSQL, for tests/bench/telephony.sh to put
// beside the SQL times of the same numbers in the same run: libphonenumber's bare calls (Parse,
// IsValidNumber, Format E164: what normalize_phone asks of it) and the core's
// sb::tel::normalize_phone (the same plus the region check and the answer string).
//
// Usage: telephony_lib FILE
//   FILE holds one "e164|national" pair a line (psql's \copy of the benchmark's table).
// Prints one line per measurement: "<kind>|<input>|<milliseconds over all numbers>", where kind is
// libphonenumber or core and input is E.164 or national. Every number must be valid: a number that
// is not ends the program with exit status 1.
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "core/base/base_error.hpp"
#include "core/telephony/telephony_phone.hpp"

namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

[[noreturn]] void fail(const std::string& message) {
  std::fprintf(stderr, "telephony_lib: %s\n", message.c_str());
  std::exit(1);
}

// Ensures: the E.164 form of `input` from libphonenumber's calls alone; empty when invalid.
std::string library_e164(const std::string& input) {
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  PhoneNumber number;
  std::string e164;
  if (util.Parse(input, "US", &number) == PhoneNumberUtil::NO_PARSING_ERROR &&
      util.IsValidNumber(number))
    util.Format(number, PhoneNumberUtil::E164, &e164);
  return e164;
}

// Ensures: the milliseconds `normalize` takes over all `inputs`; fails when one is not valid.
template <typename Normalize>
double time_all(const std::vector<std::string>& inputs, Normalize normalize) {
  auto started = std::chrono::steady_clock::now();
  for (const std::string& input : inputs)
    if (normalize(input).empty()) fail("not a valid number: " + input);
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
      .count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) fail("usage: telephony_lib FILE");
  std::ifstream in(argv[1]);
  if (!in) fail(std::string("cannot read ") + argv[1]);
  std::vector<std::string> e164, national;
  for (std::string line; std::getline(in, line);) {
    size_t bar = line.find('|');
    if (bar == std::string::npos) fail("not an e164|national line: " + line);
    e164.push_back(line.substr(0, bar));
    national.push_back(line.substr(bar + 1));
  }
  auto core = [](const std::string& input) {
    try {
      return sb::tel::normalize_phone(input, "US");
    } catch (const sb::Error&) {
      return std::string();
    }
  };
  for (const auto& [label, inputs] :
       {std::pair{"E.164", &e164}, std::pair{"national", &national}}) {
    std::printf("libphonenumber|%s|%.1f\n", label, time_all(*inputs, library_e164));
    std::printf("core|%s|%.1f\n", label, time_all(*inputs, core));
  }
  return 0;
}
