// Cryptographic building blocks of the shim (OpenSSL EVP): digests, HMAC, encodings (base64 and
// base64url through OpenSSL's EVP_EncodeBlock / EVP_DecodeBlock), public keys,
// signature checks and, for tests and dev tokens, key generation and signing.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct evp_pkey_st;

namespace sb {

// An OpenSSL key, freed with it.
using PublicKey = std::shared_ptr<evp_pkey_st>;

enum class Digest { sha1, sha256, sha512 };

// The digest of `data` as raw bytes.
std::string digest(Digest algorithm, std::string_view data);

// HMAC of `message` under `key` as raw bytes.
std::string hmac(Digest algorithm, std::string_view key, std::string_view message);

// True when a and b are equal; the time taken depends on their length only.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

// Lowercase hex of `bytes`.
std::string hex_encode(std::string_view bytes);

// The bytes of hex text (either case), or nothing.
std::optional<std::string> hex_decode(std::string_view text);

// Standard base64 with padding (RFC 4648 section 4).
std::string base64_encode(std::string_view bytes);

// Standard base64, padded or not, or nothing when malformed.
std::optional<std::string> base64_decode(std::string_view text);

// base64url without padding (RFC 4648 section 5).
std::string base64url_encode(std::string_view bytes);

// The decoded bytes, or nothing when `text` is not unpadded, canonical base64url.
std::optional<std::string> base64url_decode(std::string_view text);

// A public key from PEM text (SubjectPublicKeyInfo); throws std::runtime_error when unreadable.
PublicKey public_key_from_pem(std::string_view pem);

// An RSA public key from its big-endian modulus and exponent bytes.
PublicKey rsa_public_key(std::string_view modulus, std::string_view exponent);

// A P-256 public key from its big-endian x and y coordinates (32 bytes each).
PublicKey p256_public_key(std::string_view x, std::string_view y);

// An Ed25519 public key from its 32 raw bytes (RFC 8032); throws std::runtime_error otherwise.
PublicKey ed25519_public_key(std::string_view raw);

// The 32 raw bytes of an Ed25519 key's public half.
std::string ed25519_raw_public_key(const PublicKey& key);

// An Ed25519 private key from its 32-byte seed (RFC 8032); throws std::runtime_error otherwise.
PublicKey ed25519_private_key(std::string_view seed);

// The 32-byte seed of an Ed25519 private key.
std::string ed25519_raw_private_key(const PublicKey& key);

// "RSA", "EC", "ED25519" or "" for other key types.
std::string key_type(const PublicKey& key);

// Bits of an RSA key's modulus (0 for other keys).
int rsa_bits(const PublicKey& key);

// True when `signature` is a valid RSASSA-PKCS1-v1_5 SHA-256 signature of `message`.
bool verify_rs256(const PublicKey& key, std::string_view message, std::string_view signature);

// True when `signature` (JOSE form: r||s, 32 bytes each) is a valid ECDSA P-256 SHA-256 signature.
bool verify_es256(const PublicKey& key, std::string_view message, std::string_view signature);

// True when `signature` is a valid Ed25519 signature of `message`.
bool verify_ed25519(const PublicKey& key, std::string_view message, std::string_view signature);

// ECDSA signature conversion between DER (OpenSSL) and JOSE r||s with `half` bytes per number.
std::optional<std::string> ecdsa_der_to_jose(std::string_view der, std::size_t half);
std::optional<std::string> ecdsa_jose_to_der(std::string_view jose);

// Key generation and signing: "RSA" (2048 bits), "EC" (P-256) or "ED25519". Private keys are
// PublicKey objects too (they hold both halves).
PublicKey generate_key(const std::string& type);
PublicKey private_key_from_pem(std::string_view pem);
std::string private_key_pem(const PublicKey& key);
std::string public_key_pem(const PublicKey& key);
std::string sign_rs256(const PublicKey& key, std::string_view message);
std::string sign_es256(const PublicKey& key, std::string_view message);  // JOSE r||s
std::string sign_ed25519(const PublicKey& key, std::string_view message);

// The big-endian public numbers of a key: RSA (n, e) or EC (x, y).
std::pair<std::string, std::string> public_numbers(const PublicKey& key);

}  // namespace sb
