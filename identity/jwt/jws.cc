#include "identity/jwt/jws.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>

#include <array>

#include "common/strings.h"
#include "identity/local/x509_util.h"

namespace reattest::identity {
namespace {

using EvpMdCtxPtr = OpenSslPtr<EVP_MD_CTX, EVP_MD_CTX_free>;
using EcdsaSigPtr = OpenSslPtr<ECDSA_SIG, ECDSA_SIG_free>;

// Smaller RSA keys are breakable; RFC 7518 section 3.3 demands 2048 bits.
constexpr int kMinRsaBits = 2048;

struct AlgorithmInfo {
  JwsAlgorithm algorithm;
  std::string_view name;
  const EVP_MD* (*digest)();
  int key_type;
  // ES*: the curve's coordinate size in bytes; 0 for RSA.
  int coordinate_bytes;
};

constexpr std::array<AlgorithmInfo, 6> kAlgorithms = {{
    {JwsAlgorithm::kES256, "ES256", EVP_sha256, EVP_PKEY_EC, 32},
    {JwsAlgorithm::kES384, "ES384", EVP_sha384, EVP_PKEY_EC, 48},
    {JwsAlgorithm::kES512, "ES512", EVP_sha512, EVP_PKEY_EC, 66},
    {JwsAlgorithm::kRS256, "RS256", EVP_sha256, EVP_PKEY_RSA, 0},
    {JwsAlgorithm::kRS384, "RS384", EVP_sha384, EVP_PKEY_RSA, 0},
    {JwsAlgorithm::kRS512, "RS512", EVP_sha512, EVP_PKEY_RSA, 0},
}};

const AlgorithmInfo& InfoOf(JwsAlgorithm algorithm) {
  return kAlgorithms[static_cast<size_t>(algorithm)];
}

const unsigned char* Bytes(std::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}

absl::Status CheckKeyFits(const AlgorithmInfo& info, EVP_PKEY& key) {
  if (EVP_PKEY_get_base_id(&key) != info.key_type) {
    return absl::InvalidArgumentError(Concat("the key's type does not fit ", info.name));
  }
  int bits = EVP_PKEY_get_bits(&key);
  if (info.coordinate_bytes > 0 && (bits + 7) / 8 != info.coordinate_bytes) {
    return absl::InvalidArgumentError(Concat("the key's curve does not fit ", info.name));
  }
  if (info.coordinate_bytes == 0 && bits < kMinRsaBits) {
    return absl::InvalidArgumentError(
        Concat("the RSA key has ", bits, " bits, under ", kMinRsaBits));
  }
  return absl::OkStatus();
}

// OpenSSL speaks DER ECDSA-Sig-Value; JWS carries R and S as fixed-width
// big-endian integers, concatenated.
absl::StatusOr<std::string> DerToRaw(std::string_view der, int width) {
  const unsigned char* cursor = Bytes(der);
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &cursor, static_cast<long>(der.size())));
  if (!sig) {
    return OpenSslError("decode the ECDSA signature");
  }
  std::string raw(static_cast<size_t>(2 * width), '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), out, width) != width ||
      BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), out + width, width) != width) {
    return OpenSslError("encode the ECDSA signature");
  }
  return raw;
}

std::optional<std::string> RawToDer(std::string_view raw, int width) {
  if (raw.size() != static_cast<size_t>(2 * width)) {
    return std::nullopt;
  }
  EcdsaSigPtr sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(Bytes(raw), width, nullptr);
  BIGNUM* s = BN_bin2bn(Bytes(raw) + width, width, nullptr);
  if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return std::nullopt;
  }
  unsigned char* der = nullptr;
  int size = i2d_ECDSA_SIG(sig.get(), &der);
  if (size <= 0) {
    return std::nullopt;
  }
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(size));
  OPENSSL_free(der);
  return out;
}

}  // namespace

std::optional<JwsAlgorithm> ParseJwsAlgorithm(std::string_view name) {
  for (const AlgorithmInfo& info : kAlgorithms) {
    if (info.name == name) {
      return info.algorithm;
    }
  }
  return std::nullopt;
}

std::string_view JwsAlgorithmName(JwsAlgorithm algorithm) { return InfoOf(algorithm).name; }

absl::StatusOr<std::string> JwsSign(JwsAlgorithm algorithm, EVP_PKEY& key,
                                    std::string_view signing_input) {
  const AlgorithmInfo& info = InfoOf(algorithm);
  if (absl::Status fits = CheckKeyFits(info, key); !fits.ok()) {
    return fits;
  }
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  size_t size = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, info.digest(), nullptr, &key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &size, Bytes(signing_input), signing_input.size()) != 1) {
    return OpenSslError("start signing the JWT");
  }
  std::string signature(size, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size,
                     Bytes(signing_input), signing_input.size()) != 1) {
    return OpenSslError("sign the JWT");
  }
  signature.resize(size);
  if (info.coordinate_bytes == 0) {
    return signature;
  }
  return DerToRaw(signature, info.coordinate_bytes);
}

absl::Status JwsVerify(JwsAlgorithm algorithm, EVP_PKEY& key, std::string_view signing_input,
                       std::string_view signature) {
  const AlgorithmInfo& info = InfoOf(algorithm);
  if (absl::Status fits = CheckKeyFits(info, key); !fits.ok()) {
    return fits;
  }
  std::optional<std::string> der = std::string(signature);
  if (info.coordinate_bytes > 0) {
    der = RawToDer(signature, info.coordinate_bytes);
  }
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  bool verified = der && ctx &&
                  EVP_DigestVerifyInit(ctx.get(), nullptr, info.digest(), nullptr, &key) == 1 &&
                  EVP_DigestVerify(ctx.get(), Bytes(*der), der->size(), Bytes(signing_input),
                                   signing_input.size()) == 1;
  // A failed verification leaves errors queued on this thread; they are expected.
  ERR_clear_error();
  if (!verified) {
    return absl::InvalidArgumentError("the signature does not verify");
  }
  return absl::OkStatus();
}

}  // namespace reattest::identity
