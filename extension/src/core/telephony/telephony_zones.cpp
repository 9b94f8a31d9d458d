// The prefix map of phone-number time zones (telephony_zones.hpp).
#include "core/telephony/telephony_zones.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "core/base/base_error.hpp"

namespace sb::tel {

namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Ensures: the '&'-separated zone names of `list`, none empty; an empty result when one is.
std::vector<std::string> split_zones(std::string_view list) {
  std::vector<std::string> out;
  while (true) {
    size_t amp = list.find('&');
    std::string_view zone = list.substr(0, amp);
    if (zone.empty()) return {};
    out.emplace_back(zone);
    if (amp == std::string_view::npos) return out;
    list.remove_prefix(amp + 1);
  }
}

}  // namespace

ZoneMap ZoneMap::parse(std::string_view text) {
  ZoneMap map;
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    size_t bar = line.find('|');
    std::string_view prefix = line.substr(0, bar);
    std::vector<std::string> zones;
    if (bar != std::string_view::npos) zones = split_zones(line.substr(bar + 1));
    if (!all_digits(prefix) || zones.empty())
      throw Error("22P02", "invalid time zone prefix data",
                  "Line " + std::to_string(line_no) + " is not of the form prefix|Zone&Zone.");
    map.longest_ = std::max(map.longest_, prefix.size());
    map.prefixes_[std::string(prefix)] = std::move(zones);
  }
  return map;
}

ZoneMap ZoneMap::read(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    throw Error("58P01", "phone time zone data is missing", "File \"" + path + "\" cannot be read.",
                "reinstall the extension");
  std::stringstream text;
  text << in.rdbuf();
  return parse(text.str());
}

std::vector<std::string> ZoneMap::zones_of(std::string_view digits) const {
  std::string key(digits.substr(0, longest_));
  while (!key.empty()) {
    auto it = prefixes_.find(key);
    if (it != prefixes_.end()) return it->second;
    key.pop_back();
  }
  return {};
}

}  // namespace sb::tel
