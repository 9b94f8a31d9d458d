#include "core/http/http_crypto.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <limits>
#include <stdexcept>
#include <vector>

namespace sb {
namespace {

// The OpenSSL digest of `algorithm`.
const EVP_MD* md_of(Digest algorithm) {
  switch (algorithm) {
    case Digest::sha1:
      return EVP_sha1();
    case Digest::sha512:
      return EVP_sha512();
    case Digest::sha256:
      break;
  }
  return EVP_sha256();
}

// `s` as the unsigned bytes OpenSSL takes.
const unsigned char* bytes_of(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// Takes ownership of an OpenSSL key; throws when there is none.
PublicKey own(EVP_PKEY* key) {
  if (!key) throw std::runtime_error("openssl: no key");
  return PublicKey(key, EVP_PKEY_free);
}

using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;
using Bn = std::unique_ptr<BIGNUM, decltype(&BN_free)>;
using ParamBld = std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)>;
using Params = std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)>;
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)>;

// A BIGNUM of big-endian bytes.
Bn bignum(std::string_view big_endian) {
  return Bn(BN_bin2bn(bytes_of(big_endian), static_cast<int>(big_endian.size()), nullptr), BN_free);
}

// The big-endian bytes of `bn`, left-padded with zeros to `width`.
std::string bignum_bytes(const BIGNUM* bn, std::size_t width = 0) {
  std::size_t size = static_cast<std::size_t>(BN_num_bytes(bn));
  std::string out(width > size ? width : size, '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(out.size()));
  return out;
}

// A key of `type` ("RSA" or "EC") built from the parameters in `bld`.
PublicKey key_from_params(const char* type, OSSL_PARAM_BLD* bld) {
  Params params(OSSL_PARAM_BLD_to_param(bld), OSSL_PARAM_free);
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr), EVP_PKEY_CTX_free);
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0)
    throw std::runtime_error(std::string("invalid ") + type + " public key");
  return own(key);
}

// True when `signature` verifies `message` under `key` with digest `md` (nullptr for Ed25519).
bool digest_verify(const PublicKey& key, const EVP_MD* md, std::string_view message,
                   std::string_view signature) {
  if (!key) return false;
  MdCtx ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key.get()) != 1) return false;
  return EVP_DigestVerify(ctx.get(), bytes_of(signature), signature.size(), bytes_of(message),
                          message.size()) == 1;
}

// The signature of `message` under private `key` with digest `md` (nullptr for Ed25519).
std::string digest_sign(const PublicKey& key, const EVP_MD* md, std::string_view message) {
  MdCtx ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  std::size_t length = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &length, bytes_of(message), message.size()) != 1)
    throw std::runtime_error("openssl: signing failed");
  std::string out(length, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &length,
                     bytes_of(message), message.size()) != 1)
    throw std::runtime_error("openssl: signing failed");
  out.resize(length);
  return out;
}

// Everything written into a memory BIO.
std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(size));
}

// The longest base64 text decoded (OpenSSL takes int lengths).
constexpr std::size_t kMaxBase64 = std::numeric_limits<int>::max() / 2;

// Ensures: the bytes of standard base64 written without padding (OpenSSL's EVP_DecodeBlock on the
// padded text), or nothing unless encoding them again gives exactly `text` back: so characters
// outside the alphabet, whitespace OpenSSL would skip and non-zero trailing bits are refused.
std::optional<std::string> base64_decode_unpadded(std::string_view text) {
  if (text.size() % 4 == 1 || text.size() > kMaxBase64) return std::nullopt;
  std::string padded(text);
  std::size_t pad = (4 - text.size() % 4) % 4;
  padded.append(pad, '=');
  std::string out(padded.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes_of(padded),
                          static_cast<int>(padded.size()));
  if (n < static_cast<int>(pad)) return std::nullopt;
  out.resize(static_cast<std::size_t>(n) - pad);
  if (base64_encode(out) != padded) return std::nullopt;
  return out;
}

}  // namespace

std::string digest(Digest algorithm, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), out, &length, md_of(algorithm), nullptr) != 1)
    throw std::runtime_error("openssl: digest failed");
  return std::string(reinterpret_cast<char*>(out), length);
}

std::string hmac(Digest algorithm, std::string_view key, std::string_view message) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!HMAC(md_of(algorithm), key.data(), static_cast<int>(key.size()), bytes_of(message),
            message.size(), out, &length))
    throw std::runtime_error("openssl: hmac failed");
  return std::string(reinterpret_cast<char*>(out), length);
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  return a.empty() || CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string hex_encode(std::string_view bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

std::optional<std::string> hex_decode(std::string_view text) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (text.size() % 2) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < text.size(); i += 2) {
    int hi = nibble(text[i]), lo = nibble(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes_of(bytes),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.find_first_of("-_") != std::string_view::npos) return std::nullopt;
  return base64_decode_unpadded(text);
}

std::string base64url_encode(std::string_view bytes) {
  std::string out = base64_encode(bytes);
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.find_first_of("+/=") != std::string_view::npos) return std::nullopt;
  std::string standard(text);
  for (char& c : standard) c = c == '-' ? '+' : c == '_' ? '/' : c;
  return base64_decode_unpadded(standard);
}

PublicKey public_key_from_pem(std::string_view pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  EVP_PKEY* key = bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (!key) throw std::runtime_error("not a PEM public key");
  return own(key);
}

PublicKey private_key_from_pem(std::string_view pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  EVP_PKEY* key = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (!key) throw std::runtime_error("not a PEM private key");
  return own(key);
}

PublicKey rsa_public_key(std::string_view modulus, std::string_view exponent) {
  ParamBld bld(OSSL_PARAM_BLD_new(), OSSL_PARAM_BLD_free);
  Bn n = bignum(modulus), e = bignum(exponent);
  if (!bld || !n || !e || !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()))
    throw std::runtime_error("invalid RSA public key");
  return key_from_params("RSA", bld.get());
}

PublicKey p256_public_key(std::string_view x, std::string_view y) {
  if (x.size() != 32 || y.size() != 32) throw std::runtime_error("invalid P-256 public key");
  std::string point = "\x04" + std::string(x) + std::string(y);
  ParamBld bld(OSSL_PARAM_BLD_new(), OSSL_PARAM_BLD_free);
  if (!bld ||
      !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                        point.size()))
    throw std::runtime_error("invalid P-256 public key");
  return key_from_params("EC", bld.get());
}

// The 32 raw bytes of the half of an Ed25519 key that `get` reads (public key or private seed).
static std::string ed25519_raw(const PublicKey& key,
                               int (*get)(const EVP_PKEY*, unsigned char*, std::size_t*)) {
  std::string raw(32, '\0');
  std::size_t length = raw.size();
  if (key_type(key) != "ED25519" ||
      !get(key.get(), reinterpret_cast<unsigned char*>(raw.data()), &length))
    throw std::runtime_error("not an Ed25519 key with that half");
  return raw;
}

PublicKey ed25519_public_key(std::string_view raw) {
  if (raw.size() != 32) throw std::runtime_error("an Ed25519 public key has 32 bytes");
  return own(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, bytes_of(raw), raw.size()));
}

std::string ed25519_raw_public_key(const PublicKey& key) {
  return ed25519_raw(key, EVP_PKEY_get_raw_public_key);
}

PublicKey ed25519_private_key(std::string_view seed) {
  if (seed.size() != 32) throw std::runtime_error("an Ed25519 private key has a 32-byte seed");
  return own(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, bytes_of(seed), seed.size()));
}

std::string ed25519_raw_private_key(const PublicKey& key) {
  return ed25519_raw(key, EVP_PKEY_get_raw_private_key);
}

std::string key_type(const PublicKey& key) {
  if (!key) return "";
  switch (EVP_PKEY_get_base_id(key.get())) {
    case EVP_PKEY_RSA:
      return "RSA";
    case EVP_PKEY_EC:
      return "EC";
    case EVP_PKEY_ED25519:
      return "ED25519";
    default:
      return "";
  }
}

int rsa_bits(const PublicKey& key) {
  return key_type(key) == "RSA" ? EVP_PKEY_get_bits(key.get()) : 0;
}

bool verify_rs256(const PublicKey& key, std::string_view message, std::string_view signature) {
  return key_type(key) == "RSA" && digest_verify(key, EVP_sha256(), message, signature);
}

bool verify_es256(const PublicKey& key, std::string_view message, std::string_view signature) {
  if (key_type(key) != "EC" || EVP_PKEY_get_bits(key.get()) != 256 || signature.size() != 64)
    return false;
  auto der = ecdsa_jose_to_der(signature);
  return der && digest_verify(key, EVP_sha256(), message, *der);
}

bool verify_ed25519(const PublicKey& key, std::string_view message, std::string_view signature) {
  return key_type(key) == "ED25519" && signature.size() == 64 &&
         digest_verify(key, nullptr, message, signature);
}

std::optional<std::string> ecdsa_der_to_jose(std::string_view der, std::size_t half) {
  const unsigned char* p = bytes_of(der);
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  if (!sig) return std::nullopt;
  const BIGNUM *r = nullptr, *s = nullptr;
  ECDSA_SIG_get0(sig, &r, &s);
  std::optional<std::string> out;
  if (static_cast<std::size_t>(BN_num_bytes(r)) <= half &&
      static_cast<std::size_t>(BN_num_bytes(s)) <= half)
    out = bignum_bytes(r, half) + bignum_bytes(s, half);
  ECDSA_SIG_free(sig);
  return out;
}

std::optional<std::string> ecdsa_jose_to_der(std::string_view jose) {
  if (jose.empty() || jose.size() % 2) return std::nullopt;
  std::size_t half = jose.size() / 2;
  BIGNUM* r = BN_bin2bn(bytes_of(jose), static_cast<int>(half), nullptr);
  BIGNUM* s = BN_bin2bn(bytes_of(jose) + half, static_cast<int>(half), nullptr);
  ECDSA_SIG* sig = ECDSA_SIG_new();
  if (!r || !s || !sig || ECDSA_SIG_set0(sig, r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return std::nullopt;
  }
  unsigned char* der = nullptr;
  int length = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  if (length <= 0) return std::nullopt;
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(length));
  OPENSSL_free(der);
  return out;
}

PublicKey generate_key(const std::string& type) {
  EVP_PKEY* key = nullptr;
  if (type == "RSA")
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048));
  else if (type == "EC")
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  else if (type == "ED25519")
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  return own(key);
}

std::string private_key_pem(const PublicKey& key) {
  Bio bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    throw std::runtime_error("openssl: cannot write private key");
  return bio_text(bio.get());
}

std::string public_key_pem(const PublicKey& key) {
  Bio bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key.get()) != 1)
    throw std::runtime_error("openssl: cannot write public key");
  return bio_text(bio.get());
}

std::string sign_rs256(const PublicKey& key, std::string_view message) {
  return digest_sign(key, EVP_sha256(), message);
}

std::string sign_es256(const PublicKey& key, std::string_view message) {
  auto jose = ecdsa_der_to_jose(digest_sign(key, EVP_sha256(), message), 32);
  if (!jose) throw std::runtime_error("openssl: bad ECDSA signature");
  return *jose;
}

std::string sign_ed25519(const PublicKey& key, std::string_view message) {
  return digest_sign(key, nullptr, message);
}

std::pair<std::string, std::string> public_numbers(const PublicKey& key) {
  std::string type = key_type(key);
  const char* first = type == "RSA" ? OSSL_PKEY_PARAM_RSA_N : OSSL_PKEY_PARAM_EC_PUB_X;
  const char* second = type == "RSA" ? OSSL_PKEY_PARAM_RSA_E : OSSL_PKEY_PARAM_EC_PUB_Y;
  BIGNUM *a = nullptr, *b = nullptr;
  if (EVP_PKEY_get_bn_param(key.get(), first, &a) != 1 ||
      EVP_PKEY_get_bn_param(key.get(), second, &b) != 1) {
    BN_free(a);
    throw std::runtime_error("openssl: cannot read public numbers");
  }
  std::size_t width = type == "EC" ? 32 : 0;
  auto out = std::make_pair(bignum_bytes(a, width), bignum_bytes(b, width));
  BN_free(a);
  BN_free(b);
  return out;
}

}  // namespace sb

#include "core/base/base_cpp_only.hpp"  // last: fails the build if a PostgreSQL header came in above
