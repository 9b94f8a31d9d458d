// What outbound webhook delivery may connect to (the SSRF guard, checked on the resolved address),
// how an HTTP answer is classified, and the Standard Webhooks signature header of a message.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct sockaddr;

namespace sb::outbound {

// An IPv6 address; IPv4 addresses are held IPv4-mapped (::ffff:a.b.c.d).
using Address = std::array<std::uint8_t, 16>;

// A CIDR network, in the same IPv6 form (an IPv4 /n is ::ffff:0:0/96+n).
struct Network {
  Address base{};
  int prefix = 0;
};

// The networks of a comma-separated CIDR list ("127.0.0.1/32, ::1, 10.0.0.0/8"); a bare address
// is a single host. Throws std::invalid_argument naming the bad entry.
std::vector<Network> parse_networks(std::string_view list);

// The address of a socket address (AF_INET or AF_INET6), or nothing for other families.
std::optional<Address> address_of(const sockaddr* address);

// True when the address is loopback, private, link-local, multicast, documentation, or otherwise
// reserved (IPv4 and IPv6, IPv4 inside IPv6 forms included).
bool is_reserved(const Address& address);

// True when delivery may connect to the address: not reserved, or inside an allowed network.
bool may_connect(const Address& address, const std::vector<Network>& allowed);

// The outcome label of an HTTP answer (2xx success, 3xx redirect, else http_error).
const char* outcome_of_status(long status);

// Seconds to wait from a Retry-After value (delay-seconds or an HTTP date, against `now`).
std::optional<long> retry_after_seconds(std::string_view value, std::int64_t now);

// The webhook-signature header value, space-separated: per whsec_ secret one "v1,<base64>"
// (HMAC-SHA256), per whsk_ secret key one "v1a,<base64>" (Ed25519).
std::string signature_header(const std::vector<std::string>& secrets, std::string_view id,
                             std::string_view timestamp, std::string_view body);

// A fresh Ed25519 key pair for v1a signing from a 32-byte random seed: {whsk_..., whpk_...}.
std::pair<std::string, std::string> v1a_key_pair(std::string_view seed);

// The whpk_ public key of a whsk_ secret key; throws std::runtime_error when malformed.
std::string v1a_public_key(std::string_view whsk);

// What the attempts table keeps of a response body: at most max_bytes, every byte that is not
// printable ASCII (tab, CR and LF included) replaced by '?', so it is always valid text.
std::string stored_response_body(std::string_view body, std::size_t max_bytes);

}  // namespace sb::outbound
