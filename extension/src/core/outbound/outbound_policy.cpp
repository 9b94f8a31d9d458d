#include "core/outbound/outbound_policy.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cctype>
#include <cstring>
#include <stdexcept>

#include "core/http/http_webhook_verify.hpp"

namespace sb::outbound {
namespace {

// A network from a textual address and prefix length; IPv4 prefixes are shifted by 96.
std::optional<Network> network_of(const std::string& host, int prefix) {
  Network n;
  in_addr v4;
  in6_addr v6;
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    if (prefix > 32) return std::nullopt;
    n.base[10] = n.base[11] = 0xff;
    std::memcpy(n.base.data() + 12, &v4, 4);
    n.prefix = 96 + (prefix < 0 ? 32 : prefix);
    return n;
  }
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    if (prefix > 128) return std::nullopt;
    std::memcpy(n.base.data(), &v6, 16);
    n.prefix = prefix < 0 ? 128 : prefix;
    return n;
  }
  return std::nullopt;
}

bool in_network(const Address& a, const Network& n) {
  for (int bit = 0; bit < n.prefix; ++bit) {
    int byte = bit / 8, mask = 0x80 >> (bit % 8);
    if ((a[byte] & mask) != (n.base[byte] & mask)) return false;
  }
  return true;
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

// The reserved ranges, parsed once.
const std::vector<Network>& reserved_networks() {
  static const std::vector<Network> networks = parse_networks(
      // IPv4 (held IPv4-mapped): this network, private, shared, loopback, link-local, protocol
      // assignments, documentation, 6to4 relay, benchmarking, multicast, reserved, broadcast
      "0.0.0.0/8, 10.0.0.0/8, 100.64.0.0/10, 127.0.0.0/8, 169.254.0.0/16, 172.16.0.0/12,"
      "192.0.0.0/24, 192.0.2.0/24, 192.88.99.0/24, 192.168.0.0/16, 198.18.0.0/15,"
      "198.51.100.0/24, 203.0.113.0/24, 224.0.0.0/4, 240.0.0.0/4,"
      // IPv6: unspecified, loopback and IPv4-compatible (::/96), discard, IETF assignments
      // (Teredo included), documentation, 6to4, unique local, link-local, site-local, multicast
      "::/96, 64:ff9b:1::/48, 100::/64, 2001::/23, 2001:db8::/32, 2002::/16, fc00::/7,"
      "fe80::/10, fec0::/10, ff00::/8");
  return networks;
}

}  // namespace

std::vector<Network> parse_networks(std::string_view list) {
  std::vector<Network> out;
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string entry = trim(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    if (entry.empty()) continue;
    size_t slash = entry.find('/');
    int prefix = -1;
    if (slash != std::string::npos) {
      std::string digits = entry.substr(slash + 1);
      if (digits.empty() || digits.size() > 3 ||
          digits.find_first_not_of("0123456789") != std::string::npos)
        throw std::invalid_argument("invalid network: " + entry);
      prefix = std::stoi(digits);
    }
    auto n = network_of(entry.substr(0, slash), prefix);
    if (!n) throw std::invalid_argument("invalid network: " + entry);
    out.push_back(*n);
  }
  return out;
}

std::optional<Address> address_of(const sockaddr* address) {
  Address a{};
  if (address->sa_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
    a[10] = a[11] = 0xff;
    std::memcpy(a.data() + 12, &v4->sin_addr, 4);
    return a;
  }
  if (address->sa_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
    std::memcpy(a.data(), &v6->sin6_addr, 16);
    return a;
  }
  return std::nullopt;
}

bool is_reserved(const Address& address) {
  // NAT64 (64:ff9b::/96) carries an IPv4 address: judge that one.
  static const Network nat64 = parse_networks("64:ff9b::/96").front();
  if (in_network(address, nat64)) {
    Address v4{};
    v4[10] = v4[11] = 0xff;
    std::memcpy(v4.data() + 12, address.data() + 12, 4);
    return is_reserved(v4);
  }
  for (const Network& n : reserved_networks())
    if (in_network(address, n)) return true;
  return false;
}

bool may_connect(const Address& address, const std::vector<Network>& allowed) {
  for (const Network& n : allowed)
    if (in_network(address, n)) return true;
  return !is_reserved(address);
}

const char* outcome_of_status(long status) {
  if (status >= 200 && status < 300) return "success";
  if (status >= 300 && status < 400) return "redirect";
  return "http_error";
}

std::optional<long> retry_after_seconds(std::string_view value, std::int64_t now) {
  std::string v = trim(value);
  if (v.empty()) return std::nullopt;
  if (v.find_first_not_of("0123456789") == std::string::npos)
    return v.size() > 9 ? 999999999L : std::stol(v);
  time_t when = curl_getdate(v.c_str(), nullptr);
  if (when < 0) return std::nullopt;
  return when > now ? static_cast<long>(when - now) : 0L;
}

std::string signature_header(const std::vector<std::string>& secrets, std::string_view id,
                             std::string_view timestamp, std::string_view body) {
  std::string header;
  for (const std::string& secret : secrets) {
    if (!header.empty()) header += ' ';
    if (secret.compare(0, 5, "whsk_") == 0)
      header += sb::standard_v1a_signature(sb::standard_private_key(secret), id, timestamp, body);
    else
      header += sb::standard_signature(secret, id, timestamp, body);
  }
  return header;
}

std::pair<std::string, std::string> v1a_key_pair(std::string_view seed) {
  sb::PublicKey key = sb::ed25519_private_key(seed);
  return {sb::standard_private_key_text(key), sb::standard_public_key_text(key)};
}

std::string v1a_public_key(std::string_view whsk) {
  return sb::standard_public_key_text(sb::standard_private_key(whsk));
}

std::string stored_response_body(std::string_view body, std::size_t max_bytes) {
  std::string out(body.substr(0, max_bytes));
  for (char& c : out)
    if (!(c == '\n' || c == '\r' || c == '\t' || (c >= 0x20 && c < 0x7f))) c = '?';
  return out;
}

}  // namespace sb::outbound

#include "core/base/base_cpp_only.hpp"  // last: fails the build if a PostgreSQL header came in above
