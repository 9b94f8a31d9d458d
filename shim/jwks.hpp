// The keys that verify JWTs: the HS256 secret, and the keys of a JWKS file or URL (Supabase's
// /auth/v1/.well-known/jwks.json), read again on a timer and when a token names a kid that no
// key has (at most once per SWITCHBOARD_JWKS_MIN_REFRESH_SECONDS), so rotation needs no restart.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "config.hpp"
#include "core/http/http_jwt_verify.hpp"

namespace shim {

class JwtKeys {
 public:
  // Reads the JWKS file (throws when it is unusable) and the URL (a failure is logged, and the
  // URL is tried again later), then refreshes both in the background.
  explicit JwtKeys(const Config& config);
  ~JwtKeys();
  JwtKeys(const JwtKeys&) = delete;
  JwtKeys& operator=(const JwtKeys&) = delete;

  // The keys and rules in force now.
  std::shared_ptr<const sb::JwtPolicy> policy() const;

  // Changes whenever the key set does (tokens verified before may no longer verify).
  std::uint64_t generation() const;

  // Ensures: the JWKS is read again when `kid` is not a key's and no refresh for an unknown kid
  // ran within the minimum interval; true when the key set changed.
  bool refresh_for_kid(const std::string& kid);

  // Ensures: the JWKS file and URL have been read again now; true when the key set changed.
  bool refresh();

 private:
  // The JWKS document of the URL (else the file) when it can be read and is usable; a failure
  // is logged and gives nothing.
  std::optional<std::string> fetch(bool url) const;
  // Ensures: the policy holds the static keys plus the keys of both documents.
  void install(const std::string& file_text, const std::string& url_text);
  // How soon the URL is tried again while it has not answered.
  std::chrono::seconds retry_period() const;
  void run();  // the timer thread

  const Config& config_;
  mutable std::mutex mutex_;  // policy_, generation_ and the documents in force
  std::shared_ptr<const sb::JwtPolicy> policy_;
  std::uint64_t generation_ = 0;
  std::string file_text_, url_text_;
  std::mutex refresh_mutex_;  // one refresh at a time; last_kid_refresh_
  std::chrono::steady_clock::time_point last_kid_refresh_{};
  std::atomic<bool> url_answered_{false};  // the last fetch of the URL succeeded
  std::mutex stop_mutex_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace shim
