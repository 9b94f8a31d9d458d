// The call-event fold: see contacts_fold.hpp. The keys and values mirror what the SQL fold wrote
// before (numeric keys, values as json scalars, times as ISO 8601 text).
#include "core/contacts/contacts_fold.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <utility>

#include "core/base/base_error.hpp"
#include "core/base/base_json_writer.hpp"

namespace sb::contacts {
namespace {

constexpr std::int64_t kRankStep = 10000000000000;  // 1e13: a rank outweighs any sequence

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Whether `text` is 1 to `max` decimal digits.
bool all_digits(std::string_view text, std::size_t max) {
  if (text.empty() || text.size() > max) return false;
  for (char c : text)
    if (!is_digit(c)) return false;
  return true;
}

// The value of `n` leading digits of `text` at `at`, or -1 when they are not all digits.
int digits_at(std::string_view text, std::size_t at, std::size_t n) {
  if (at + n > text.size()) return -1;
  int value = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (!is_digit(text[i])) return -1;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, int m, int d) {
  y -= m <= 2;
  std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  std::int64_t yoe = y - era * 400;
  std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool valid_date(int y, int m, int d) {
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1) return false;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= days[m - 1] + (m == 2 && leap ? 1 : 0);
}

// Unix microseconds of a checked date and time at UTC offset `offset_seconds`.
std::optional<std::int64_t> instant(int y, int mo, int d, int h, int mi, int s, std::int64_t micros,
                                    int offset_seconds) {
  if (!valid_date(y, mo, d) || h > 23 || mi > 59 || s > 59) return std::nullopt;
  std::int64_t seconds = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
  return (seconds - offset_seconds) * 1000000 + micros;
}

// The offset in seconds of "Z", "+hh", "+hh:mm" or "+hhmm" (also '-'), or nullopt.
std::optional<int> offset_of(std::string_view z) {
  if (z == "Z") return 0;
  if (z.size() < 3 || (z[0] != '+' && z[0] != '-')) return std::nullopt;
  int h = digits_at(z, 1, 2), m = 0;
  if (z.size() == 6 && z[3] == ':')
    m = digits_at(z, 4, 2);
  else if (z.size() == 5)
    m = digits_at(z, 3, 2);
  else if (z.size() != 3)
    return std::nullopt;
  if (h < 0 || m < 0 || h > 15 || m > 59) return std::nullopt;
  return (z[0] == '-' ? -1 : 1) * (h * 3600 + m * 60);
}

std::optional<std::int64_t> parse_iso(std::string_view t) {
  int y = digits_at(t, 0, 4), mo = digits_at(t, 5, 2), d = digits_at(t, 8, 2);
  if (y < 0 || mo < 0 || d < 0 || t.size() < 16 || t[4] != '-' || t[7] != '-' ||
      (t[10] != 'T' && t[10] != ' ') || t[13] != ':')
    return std::nullopt;
  int h = digits_at(t, 11, 2), mi = digits_at(t, 14, 2), s = 0;
  std::size_t at = 16;
  if (at < t.size() && t[at] == ':') {
    s = digits_at(t, at + 1, 2);
    at += 3;
  }
  std::int64_t micros = 0;
  if (at < t.size() && t[at] == '.') {
    std::size_t n = 0;
    for (++at; at < t.size() && is_digit(t[at]); ++at, ++n)
      if (n < 6) micros = micros * 10 + (t[at] - '0');
    if (n == 0) return std::nullopt;
    for (; n < 6; ++n) micros *= 10;
  }
  auto offset = offset_of(t.substr(std::min(at, t.size())));
  if (h < 0 || mi < 0 || s < 0 || !offset) return std::nullopt;
  return instant(y, mo, d, h, mi, s, micros, *offset);
}

// RFC 2822 as Twilio writes it: "Sat, 05 Dec 2026 10:00:00 +0000" (the day may have one digit).
std::optional<std::int64_t> parse_rfc2822(std::string_view t) {
  static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (t.size() < 5 || t[3] != ',' || t[4] != ' ') return std::nullopt;
  std::size_t at = 5;
  int d = digits_at(t, at, 2);
  if (d >= 0)
    at += 2;
  else if ((d = digits_at(t, at, 1)) >= 0)
    at += 1;
  else
    return std::nullopt;
  std::string_view rest = t.substr(at);  // " Dec 2026 10:00:00 +0000"
  if (rest.size() != 24 || rest[0] != ' ' || rest[4] != ' ' || rest[9] != ' ' || rest[12] != ':' ||
      rest[15] != ':' || rest[18] != ' ')
    return std::nullopt;
  int mo = 0;
  for (int i = 0; i < 12; ++i)
    if (rest.substr(1, 3) == months[i]) mo = i + 1;
  int y = digits_at(rest, 5, 4), h = digits_at(rest, 10, 2), mi = digits_at(rest, 13, 2),
      s = digits_at(rest, 16, 2);
  auto offset = offset_of(rest.substr(19));
  if (mo == 0 || y < 0 || h < 0 || mi < 0 || s < 0 || !offset) return std::nullopt;
  return instant(y, mo, d, h, mi, s, 0, *offset);
}

// What `->>` gives for a member: a string's text, a scalar's literal, nullopt for null or absent.
std::optional<std::string> text_of(const Json* v) {
  if (!v || v->kind == Json::Kind::null) return std::nullopt;
  if (v->kind == Json::Kind::boolean) return std::string(v->boolean ? "true" : "false");
  if (v->kind == Json::Kind::string || v->kind == Json::Kind::number) return v->text;
  return jsonb_text(*v);
}

// The member `key` of `v` when `v` is an object.
const Json* member(const Json* v, std::string_view key) {
  return v && v->kind == Json::Kind::object ? v->find(key) : nullptr;
}

// The first text of a path's members that is not null (coalesce of `->>`).
std::optional<std::string> text_at(const Json* v, std::initializer_list<std::string_view> path) {
  for (auto key : path) v = member(v, key);
  return text_of(v);
}

Json string_json(std::string text) {
  Json j;
  j.kind = Json::Kind::string;
  j.text = std::move(text);
  return j;
}

Json number_json(std::string literal) {
  Json j;
  j.kind = Json::Kind::number;
  j.text = std::move(literal);
  return j;
}

// A time key: Unix seconds with six decimals, negated when the earliest must win.
std::string time_key(std::int64_t micros, bool earliest_wins) {
  std::int64_t k = earliest_wins ? -micros : micros;
  std::int64_t whole = k / 1000000, frac = k % 1000000;
  if (frac < 0) frac = -frac;
  std::string digits = std::to_string(frac);
  std::string out = (k < 0 && whole == 0 ? "-" : "") + std::to_string(whole) + ".";
  return out + std::string(6 - digits.size(), '0') + digits;
}

// The integer nearest to a number literal divided by `divisor` (halves away from zero), or
// nullopt when it is not a number or out of the int range.
std::optional<std::string> rounded_int(const Json* v, long double divisor) {
  if (!v || v->kind != Json::Kind::number) return std::nullopt;
  long double x = std::round(std::strtold(v->text.c_str(), nullptr) / divisor);
  if (!(x >= std::numeric_limits<int>::min() && x <= std::numeric_limits<int>::max()))
    return std::nullopt;
  return std::to_string(static_cast<long long>(x));
}

// A number literal divided by 100 (a decimal shift; cents to dollars).
std::string hundredth(const std::string& literal) {
  if (literal.find_first_of("eE") != std::string::npos) {
    char out[64];
    std::snprintf(out, sizeof out, "%.17Lg", std::strtold(literal.c_str(), nullptr) / 100);
    return out;
  }
  std::string sign = literal[0] == '-' ? "-" : "";
  std::string digits = literal.substr(sign.size());
  std::size_t dot = digits.find('.');
  std::string whole = digits.substr(0, dot),
              frac = dot == std::string::npos ? "" : digits.substr(dot + 1);
  whole = std::string(whole.size() < 3 ? 3 - whole.size() : 0, '0') + whole;
  std::string out = whole.substr(0, whole.size() - 2);
  while (out.size() > 1 && out[0] == '0') out.erase(0, 1);
  return sign + out + "." + whole.substr(whole.size() - 2) + frac;
}

// Builds the fold entries of one event: each under one key, times under their own keys.
class Facts {
 public:
  explicit Facts(std::string key) : key_(std::move(key)) { facts_.kind = Json::Kind::object; }
  void text(const char* field, const std::optional<std::string>& value) {
    if (value) add(field, key_, string_json(*value));
  }
  void number(const char* field, const std::optional<std::string>& literal) {
    if (literal) add(field, key_, number_json(*literal));
  }
  void phone(const char* field, const std::optional<std::string>& value) {
    if (value && is_e164(*value)) text(field, value);
  }
  void time(const char* field, std::optional<std::int64_t> micros, bool earliest_wins) {
    if (micros) add(field, time_key(*micros, earliest_wins), string_json(iso8601_utc(*micros)));
  }
  Json take() { return std::move(facts_); }

 private:
  void add(const char* field, std::string key, Json value) {
    Json entry;
    entry.kind = Json::Kind::array;
    entry.items.push_back(number_json(std::move(key)));
    entry.items.push_back(std::move(value));
    facts_.members.emplace_back(field, std::move(entry));
  }
  std::string key_;
  Json facts_;
};

std::string status_key(int rank, std::int64_t sequence) {
  return std::to_string(rank * kRankStep + sequence);
}

std::optional<std::int64_t> text_time(const std::optional<std::string>& text) {
  return text ? parse_event_time(*text) : std::nullopt;
}

std::optional<std::string> direction_of(std::optional<std::string> word) {
  if (word == "inbound") return word;
  if (word && word->compare(0, 8, "outbound") == 0) return std::string("outbound");
  return std::nullopt;
}

CallFacts twilio_facts(const Json& e) {
  if (e.find("MessageSid") || e.find("SmsSid")) return {};
  CallStatus st = call_status_of(text_of(e.find("CallStatus")).value_or(""), "");
  auto seq = text_of(e.find("SequenceNumber"));
  // a voice webhook has no SequenceNumber: it orders by its status alone
  Facts f(status_key(st.rank, seq && all_digits(*seq, 12) ? std::stoll(*seq) : 0));
  if (st.rank) f.text("status", st.status);
  f.text("direction", direction_of(text_of(e.find("Direction"))));
  f.phone("from_number", text_of(e.find("From")));
  f.phone("to_number", text_of(e.find("To")));
  f.text("answered_by", text_of(e.find("AnsweredBy")));
  auto duration = text_of(e.find("CallDuration"));
  if (duration && all_digits(*duration, 9))
    f.number("duration_seconds", std::to_string(std::stoll(*duration)));
  f.text("recording_url", text_of(e.find("RecordingUrl")));
  auto rec = text_of(e.find("RecordingDuration"));
  if (rec && all_digits(*rec, 9))
    f.number("recording_duration_seconds", std::to_string(std::stoll(*rec)));
  auto at = text_time(text_of(e.find("Timestamp")));
  f.time("started_at", at, true);
  if (st.status == "in_progress") f.time("answered_at", at, true);
  if (st.rank == 4) f.time("ended_at", at, false);
  return {text_of(e.find("CallSid")), f.take()};
}

CallFacts vapi_facts(const Json& e) {
  const Json* m = member(&e, "message");
  auto type = text_at(m, {"type"});
  if (!m || m->kind != Json::Kind::object ||
      (type != "status-update" && type != "end-of-call-report"))
    return {};
  const Json* c = member(m, "call");
  auto reason = text_of(m->find("endedReason"));
  CallStatus st = call_status_of(
      type == "end-of-call-report" ? "ended" : text_of(m->find("status")).value_or(""),
      reason.value_or(""));
  auto ts = text_of(m->find("timestamp"));
  Facts f(status_key(st.rank, ts && all_digits(*ts, 13) ? std::stoll(*ts) : 0));
  if (st.rank) f.text("status", st.status);
  auto kind = text_at(c, {"type"});
  std::optional<std::string> dir;
  if (kind == "inboundPhoneCall") dir = "inbound";
  if (kind == "outboundPhoneCall") dir = "outbound";
  f.text("direction", dir);
  auto customer = text_at(c, {"customer", "number"}), own = text_at(m, {"phoneNumber", "number"});
  bool inbound = dir == "inbound";
  f.phone("from_number", inbound ? customer : own);
  f.phone("to_number", inbound ? own : customer);
  f.text("assistant_id", text_at(c, {"assistantId"}));
  f.text("ended_reason", reason);
  if (reason && reason->find("voicemail") != std::string::npos)
    f.text("answered_by", std::string("machine_end_other"));
  auto first = [&](std::optional<std::string> a, std::optional<std::string> b) {
    return a ? a : b;
  };
  f.text("transcript", first(text_at(m, {"artifact", "transcript"}), text_at(m, {"transcript"})));
  f.text("recording_url",
         first(text_at(m, {"artifact", "recordingUrl"}), text_at(m, {"recordingUrl"})));
  f.text("summary", first(text_at(m, {"analysis", "summary"}), text_at(m, {"summary"})));
  const Json* cost = m->find("cost");
  if (cost && cost->kind == Json::Kind::number) f.number("cost", cost->text);
  f.number("duration_seconds", rounded_int(m->find("durationSeconds"), 1));
  f.time("started_at", text_time(first(text_at(m, {"startedAt"}), text_at(c, {"startedAt"}))),
         true);
  f.time("ended_at", text_time(first(text_at(m, {"endedAt"}), text_at(c, {"endedAt"}))), false);
  return {text_at(c, {"id"}), f.take()};
}

// A time given as Unix milliseconds (a json number or numeric string of up to 15 digits).
std::optional<std::int64_t> ms_time(const Json* v) {
  auto text = text_of(v);
  if (!text || !all_digits(*text, 15)) return std::nullopt;
  return std::stoll(*text) * 1000;
}

CallFacts retell_facts(const Json& e) {
  const Json* c = e.find("call");
  auto kind = text_of(e.find("event"));
  int order = kind == "call_started"    ? 1
              : kind == "call_ended"    ? 2
              : kind == "call_analyzed" ? 3
                                        : 0;
  if (!c || c->kind != Json::Kind::object || order == 0) return {};
  auto reason = text_of(c->find("disconnection_reason"));
  CallStatus st = call_status_of(text_of(c->find("call_status")).value_or(""), reason.value_or(""));
  Facts f(status_key(st.rank, order * (kRankStep / 10)));
  if (st.rank) f.text("status", st.status);
  auto dir = text_of(c->find("direction"));
  f.text("direction", dir == "inbound" || dir == "outbound" ? dir : std::nullopt);
  f.phone("from_number", text_of(c->find("from_number")));
  f.phone("to_number", text_of(c->find("to_number")));
  f.text("assistant_id", text_of(c->find("agent_id")));
  f.text("ended_reason", reason);
  if (reason == "voicemail_reached") f.text("answered_by", std::string("machine_end_other"));
  f.text("transcript", text_of(c->find("transcript")));
  f.text("recording_url", text_of(c->find("recording_url")));
  f.text("summary", text_at(c, {"call_analysis", "call_summary"}));
  const Json* cost = member(c->find("call_cost"), "combined_cost");
  if (cost && cost->kind == Json::Kind::number) f.number("cost", hundredth(cost->text));
  f.number("duration_seconds", rounded_int(c->find("duration_ms"), 1000));
  f.text("transferred_to", text_of(c->find("transfer_destination")));
  auto started = ms_time(c->find("start_timestamp"));
  f.time("started_at", started, true);
  if (st.status == "in_progress" || st.status == "completed") f.time("answered_at", started, true);
  f.time("ended_at", ms_time(c->find("end_timestamp")), false);
  return {text_of(c->find("call_id")), f.take()};
}

// `text` cut to its first `n` characters (UTF-8), as SQL's left().
std::string left_chars(const std::string& text, std::size_t n) {
  std::size_t at = 0;
  for (std::size_t chars = 0; at < text.size() && chars < n; ++chars) {
    ++at;
    while (at < text.size() && (static_cast<unsigned char>(text[at]) & 0xC0) == 0x80) ++at;
  }
  return text.substr(0, at);
}

// An entry's key and value text, or nullopt for an entry that is not [number, value].
struct Entry {
  long double key;
  std::optional<std::string> value;
};
std::optional<Entry> entry_of(const Json& e) {
  if (e.kind != Json::Kind::array || e.items.empty() || e.items[0].kind != Json::Kind::number)
    return std::nullopt;
  long double key = std::strtold(e.items[0].text.c_str(), nullptr);
  if (std::isnan(key)) return std::nullopt;
  return Entry{key, e.items.size() > 1 ? text_of(&e.items[1]) : std::nullopt};
}

// Whether entry `b` beats entry `a` (greater key, or the same key and a greater value).
bool beats(const Json& b, const Json& a) {
  auto x = entry_of(a), y = entry_of(b);
  if (!y) return false;
  if (!x) return true;
  if (y->key != x->key) return y->key > x->key;
  return x->value && y->value && *y->value > *x->value;
}

}  // namespace

bool is_e164(std::string_view text) {
  return text.size() >= 8 && text.size() <= 16 && text[0] == '+' && text[1] >= '1' &&
         all_digits(text.substr(1), 15);
}

std::optional<std::int64_t> parse_event_time(std::string_view text) {
  if (text.size() >= 10 && is_digit(text[0])) return parse_iso(text);
  return parse_rfc2822(text);
}

CallStatus call_status_of(std::string_view word, std::string_view ended_reason) {
  auto has = [&](std::string_view part) {
    return ended_reason.find(part) != std::string_view::npos;
  };
  if (word == "queued" || word == "initiated" || word == "scheduled" || word == "registered")
    return {"queued", 1};
  if (word == "ringing") return {"ringing", 2};
  if (word == "in-progress" || word == "ongoing" || word == "forwarding" || word == "answered")
    return {"in_progress", 3};
  if (word == "busy" || word == "failed" || word == "canceled") return {std::string(word), 4};
  if (word == "no-answer" || word == "not_connected") return {"no_answer", 4};
  if (word == "error") return {"failed", 4};
  if (word != "ended" && word != "completed") return {};
  if (has("busy")) return {"busy", 4};
  if (has("no-answer") || has("no_answer") || has("did-not-answer")) return {"no_answer", 4};
  if (ended_reason.substr(0, 5) == "error" || has("fail")) return {"failed", 4};
  return {"completed", 4};
}

CallFacts call_event_facts(std::string_view provider, const Json& event) {
  if (event.kind != Json::Kind::object)
    throw Error("22023", "call event must be a json object",
                "event: " + left_chars(jsonb_text(event), 100));
  CallFacts facts;
  if (provider == "twilio")
    facts = twilio_facts(event);
  else if (provider == "vapi")
    facts = vapi_facts(event);
  else if (provider == "retell")
    facts = retell_facts(event);
  else
    throw Error("22023", "unknown call provider", "provider: " + std::string(provider),
                "twilio, vapi or retell");
  if (facts.facts.kind != Json::Kind::object) facts.facts.kind = Json::Kind::object;
  return facts;
}

Error missing_call_id_error(std::string_view provider, const Json& event) {
  return Error(
      "22023", "call event has no call id",
      "provider: " + std::string(provider) + "; event: " + left_chars(jsonb_text(event), 100),
      "twilio: CallSid; vapi: message.call.id of a status-update or end-of-call-report; "
      "retell: call.call_id");
}

Json call_fold(const Json& a, const Json& b) {
  Json out;
  out.kind = Json::Kind::object;
  if (a.kind == Json::Kind::object) out.members = a.members;
  if (b.kind != Json::Kind::object) return out;
  for (const auto& [field, entry] : b.members) {
    bool found = false;
    for (auto& [name, mine] : out.members)
      if (name == field) {
        found = true;
        if (beats(entry, mine)) mine = entry;
      }
    if (!found) out.members.emplace_back(field, entry);
  }
  return out;
}

std::optional<std::string> call_outcome(std::string_view status,
                                        const std::optional<std::string>& answered_by) {
  if (status == "completed") {
    bool machine = answered_by && (answered_by->rfind("machine", 0) == 0 || *answered_by == "fax");
    return std::string(machine ? "voicemail" : "connected");
  }
  if (status == "busy" || status == "no_answer" || status == "failed") return std::string(status);
  if (status == "canceled") return std::string("failed");
  return std::nullopt;
}

namespace {

const char* const kProjected[] = {
    "status",           "direction",      "from_number",
    "to_number",        "assistant_id",   "answered_by",
    "ended_reason",     "recording_url",  "recording_duration_seconds",
    "transcript",       "summary",        "cost",
    "duration_seconds", "transferred_to", "started_at",
    "answered_at",      "ended_at"};

// What `fold #>> '{field,1}'` gives: element 1 of an array (member "1" of an object) as text,
// nullopt for a JSON null or nothing there.
std::optional<std::string> projected_text(const Json& fold, const char* field) {
  const Json* entry = fold.find(field);
  if (!entry) return std::nullopt;
  const Json* value = nullptr;
  if (entry->kind == Json::Kind::array && entry->items.size() > 1) value = &entry->items[1];
  if (entry->kind == Json::Kind::object) value = entry->find("1");
  if (!value || value->kind == Json::Kind::null) return std::nullopt;
  if (value->kind == Json::Kind::string || value->kind == Json::Kind::number) return value->text;
  if (value->kind == Json::Kind::boolean) return std::string(value->boolean ? "true" : "false");
  return jsonb_text(*value);
}

}  // namespace

std::vector<CallColumn> call_projection(const Json& fold) {
  std::vector<CallColumn> columns;
  for (const char* field : kProjected) columns.push_back({field, projected_text(fold, field)});
  if (!columns[0].text) columns[0].text = "queued";
  columns.push_back({"outcome", call_outcome(*columns[0].text, columns[5].text)});
  return columns;
}

}  // namespace sb::contacts
