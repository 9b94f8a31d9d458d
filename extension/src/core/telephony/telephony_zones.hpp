// The time zones of phone numbers: libphonenumber's prefix map (resources/timezones/map_data.txt,
// shipped as extension/data/switchboard_phone_timezones.txt with its licence notice), read once.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sb::tel {

class ZoneMap {
 public:
  // Ensures: the map of `text` (lines `prefix|Zone&Zone`; '#' comments and blank lines skipped);
  // sb::Error 22P02 naming the line number of a malformed line.
  static ZoneMap parse(std::string_view text);

  // Ensures: the map of the file at `path` (parse); sb::Error 58P01 naming the file when it cannot
  // be read.
  static ZoneMap read(const std::string& path);

  // Ensures: the zones of the longest prefix of `digits` (E.164 without '+') in the map; empty
  // when no prefix matches.
  std::vector<std::string> zones_of(std::string_view digits) const;

  size_t size() const { return prefixes_.size(); }

 private:
  std::unordered_map<std::string, std::vector<std::string>> prefixes_;
  size_t longest_ = 0;
};

}  // namespace sb::tel
