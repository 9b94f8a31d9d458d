// Provider call events (Twilio status callbacks, Vapi server messages, Retell webhooks) folded
// into one call record whatever order they arrive in. Pure C++17: the SQL side
// (pg/contacts/contacts_calls.cpp) reads and writes the fold column of switchboard.calls.
//
// A fold is a json object: field -> [key, value]. Each event states some fields, each under a key
// that orders it among the call's events (its status rank, then the provider's sequence; start and
// answer times keyed so the earliest wins, end times so the latest wins). Folding keeps for each
// field the entry with the greater (key, value): commutative, associative and idempotent, so
// duplicates and any arrival order end in the same fold.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/base_error.hpp"
#include "core/base/base_json.hpp"

namespace sb::contacts {

// Whether `text` is a phone number in E.164 (the rule of the switchboard.phone domain).
bool is_e164(std::string_view text);

// Unix microseconds of an event time: ISO 8601 (2026-12-05T11:00:00Z, a space for the T, a
// fraction, Z or an offset) or RFC 2822 as Twilio writes it (Sat, 05 Dec 2026 10:00:00 +0000);
// nullopt for anything else or an impossible date.
std::optional<std::int64_t> parse_event_time(std::string_view text);

// The status of a provider's status word (with the ended reason deciding how an end ended) and
// its rank: queued 1, ringing 2, in_progress 3, every end 4. Empty status and rank 0 for a word
// that names none.
struct CallStatus {
  std::string status;
  int rank = 0;
};
CallStatus call_status_of(std::string_view word, std::string_view ended_reason);

// What one provider event says about a call: its call id (nullopt for an event that is not about
// a call, or one without an id) and its fold entries (a json object, possibly empty).
struct CallFacts {
  std::optional<std::string> call_id;
  Json facts;
};

// Ensures: the facts of `event` from `provider` (twilio, vapi or retell); sb::Error 22023 for an
// event that is not a json object or an unknown provider (the wording of record_call_event).
CallFacts call_event_facts(std::string_view provider, const Json& event);

// The 22023 error for an event without a call id, naming the provider and the event.
Error missing_call_id_error(std::string_view provider, const Json& event);

// The fold of two folds: for each field the entry with the greater (key, value); an entry that
// is not [number, value] loses to any that is.
Json call_fold(const Json& a, const Json& b);

// The dashboard outcome of a call in a final status (connected, voicemail: answered by a machine
// or a fax, no_answer, busy, failed), nullopt while it is not over.
std::optional<std::string> call_outcome(std::string_view status,
                                        const std::optional<std::string>& answered_by);

// One column of switchboard.calls and its text (nullopt for NULL).
struct CallColumn {
  const char* name;
  std::optional<std::string> text;
};

// The columns of a call that project its fold: each field's value as `fold #>> '{field,1}'`
// gives it, status 'queued' while none is known, and the outcome (call_outcome).
std::vector<CallColumn> call_projection(const Json& fold);

}  // namespace sb::contacts
