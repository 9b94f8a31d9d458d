// What every fuzz target of tests/fuzz shares: its input cut into newline-separated fields (so
// seeds stay readable text), numbers read from fields, property checks that crash like a bug, and
// fixed keys (test keys only: published here, they protect nothing).
#pragma once

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/http/http_crypto.hpp"

namespace sb::fuzz {

// The input as text.
inline std::string_view text_of(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Ensures: `n` fields of `input`: the first n-1 lines (without their '\n') and then the rest,
// newlines included; missing fields are empty.
inline std::vector<std::string_view> fields(std::string_view input, std::size_t n) {
  std::vector<std::string_view> out;
  while (out.size() + 1 < n) {
    auto end = input.find('\n');
    out.push_back(input.substr(0, end));
    input = end == std::string_view::npos ? std::string_view() : input.substr(end + 1);
  }
  out.push_back(input);
  return out;
}

// The decimal integer `text` (optional '-'), or `fallback` when it is not one or out of range.
inline std::int64_t integer_or(std::string_view text, std::int64_t fallback) {
  std::int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size() ? value : fallback;
}

// Ensures: a property that failed stops the run like a crash, naming it (libFuzzer saves the
// input).
inline void require(bool holds, const char* property) {
  if (holds) return;
  std::fprintf(stderr, "fuzz property violated: %s\n", property);
  std::abort();
}

// Fixed key pairs of the fuzz targets (RSA 2048, P-256, Ed25519), private halves included.
inline const PublicKey& rsa_test_key() {
  static const PublicKey key = private_key_from_pem(R"(-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQCl4N4dFPYa4PF1
Hj5ydQoQJ76qzSht4+rV1/cqIsjIR/YkgdFGgXkVdGFdq2mxYX8qGDxNR5QeC2CY
AxsMuqOPvb7x6DvONl77fs1UmlPeTIpSw0XHhWgMX6QWB1DQC/sWzr/LkKHD+uLs
CuXGvLbe2E6oINB6ierJWxrdGVVDK7khYyMBOBLi7lJlEgWHl9jyXGMlpyJWNOTS
3erNQV+FKZWLWLXdhkVkgv2MPGS+G/TpDI+pYAGr8/9wyDprmPYzxFKs4r8T9Eth
d/9SdtMRnfv7Djg0W6loj4FXGbjh5MDWydLO7hJe7/4EPZxtiCK0RwVijX4p5+8D
utC5xFKbAgMBAAECggEAE6vjK1e9B9r9R4JarYArvVa5SdAip0WMJ+gAq8KMRRQj
oJi0lMPt9BllIpKdaifByOAu5otCiX2X6u8TWiMYGofKCS4dSYsxIGodN5dFsuso
zD/UGqE7gZwl/WbIsqN5F29VV3LDfFZYat2v+i2PEkZcrZuWnbGVYmOnf+jtL5Xi
t2Mbka4PYYe/8pHrcgy1Q35FzCPE9HQfPGx3k6qVNkT53gf6Zt1XAL/Cn4PiGRwX
7WdjaKrcm7KwQ8BnHnbkm1f7Q/Cwm4UI4MkW0bcRqYiw/F5d2vK9vtpk0emtR68H
qPZ1skIW7X3Rr6j+dZsr/7xMBuA5MRxWxF0BtbcPIQKBgQDjDNErDyHt4WJQzwFC
+o4mi8i3rGR05OZcBKHwArthnm0e1aUwQeLk7aHPjmcly9qmC5uzry3Q7Hq5W3HB
mB/ZCXrRdLcSoZ9doWCNerUuc+Fh977qsRZJSOzM1KIKdKuHaMvJa4onV8JX21Fc
Xlqqmz2N+kir0PXExugk6mrlnwKBgQC7B1WovCUhMtoWlzCUCtveZnXZxaBzdoqf
+fybADVULDsTZjEzscgTL+eGSpBI7U7YPHVxpjF9WFUskwKUy6IezehQvHRAqgKR
l/kncMsmX/9zPfZLfj6iFJBFKqLscD5iZ9yddQ1yniUcsM5Fo5yeFEi3d60Jo/7z
AlTG3KGZhQKBgQDFn3tUQkii9+EOOw97EAC4lkSvcjLB+BZ1k2asNISKlE2gYA72
8PIflqKXuPgY0tXOXx44CMsVJTAws+JQwis+St0HANL0OY8v/O3AV0TqWNyc2/nl
5xth0EKkipM8DI7cPp/aAmtukRlMRU4M2ueJxbOPJ4EnY6r3irW2o/9FOwKBgD4v
HB30IGw/Wh+0uSQf0CbL7lcvzD9XpJO4LHLkyNZptmKm0akcbSdkABi4Zey5akOf
JnVZCo9gdUFSx8LtScPwNlPRtN1jKWN7Ig4pBIKH3IlWirNjEDQXnjhBCtaOI0/Y
tJNtvcDkL/awGoUw9vvgRqUpl1DjQ/tMRR+xb9F5AoGBAN51duNl2fm1EvspMg9t
dCdoQlMAPVdNl5xdVic5NvP60JoYRlDJNGtnj69SCAtwiV8PlwuQYdaTIPnRUKx5
tg3ALN5raD2e92lGH6tQlB1GZJQekk9vwx5piLa2N3tiQ9qFMX8YQe89/ECibO1m
DMuTzJisANK28U2qNzGk9mRj
-----END PRIVATE KEY-----
)");
  return key;
}

inline const PublicKey& ec_test_key() {
  static const PublicKey key = private_key_from_pem(R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgE25G0BL4r56oCf3Y
LrrfBYMfLjMq+8kNCg3R4xFB/R2hRANCAASBu6uFqzH6ZEEo93i8SwppXEPidi8R
EOO8oVUlBnkWFuA/GbcQgqzYjIvUizWoWzytF76e1VH5XPnttYfMAVC1
-----END PRIVATE KEY-----
)");
  return key;
}

inline const PublicKey& ed25519_test_key() {
  static const PublicKey key = private_key_from_pem(R"(-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIL5KzGaOnZ0TEotV75E0usQQG468+WqJ9+wuRXeke2IJ
-----END PRIVATE KEY-----
)");
  return key;
}

}  // namespace sb::fuzz
