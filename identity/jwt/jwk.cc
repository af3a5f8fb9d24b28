#include "identity/jwt/jwk.h"

#include <openssl/core_names.h>

#include <nlohmann/json.hpp>
#include <string_view>

#include "common/strings.h"
#include "identity/jwt/base64url.h"
#include "identity/local/x509_util.h"

namespace reattest::identity {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kJwtSvidUse = "jwt-svid";

// JOSE names of the curves OpenSSL calls by their SEC names.
std::optional<std::string_view> JoseCurve(std::string_view openssl_name) {
  if (openssl_name == "prime256v1" || openssl_name == "P-256") {
    return "P-256";
  }
  if (openssl_name == "secp384r1" || openssl_name == "P-384") {
    return "P-384";
  }
  if (openssl_name == "secp521r1" || openssl_name == "P-521") {
    return "P-521";
  }
  return std::nullopt;
}

// A key parameter as big-endian bytes; `width` > 0 left-pads to that many
// bytes (EC coordinates have a fixed width in JWK), 0 keeps it minimal.
absl::StatusOr<std::string> BignumParam(const EVP_PKEY& key, const char* name, int width) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(&key, name, &raw) != 1) {
    return OpenSslError(Concat("read key parameter ", name));
  }
  BignumPtr number(raw);
  int size = width > 0 ? width : BN_num_bytes(number.get());
  std::string bytes(static_cast<size_t>(size), '\0');
  auto* out = reinterpret_cast<unsigned char*>(bytes.data());
  if (BN_bn2binpad(number.get(), out, size) != size) {
    return OpenSslError(Concat("encode key parameter ", name));
  }
  return bytes;
}

absl::StatusOr<Json> EcJwk(const EVP_PKEY& key) {
  char group[64] = {};
  if (EVP_PKEY_get_utf8_string_param(&key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                     nullptr) != 1) {
    return OpenSslError("read the key's curve");
  }
  std::optional<std::string_view> curve = JoseCurve(group);
  if (!curve) {
    return absl::InvalidArgumentError(Concat("unsupported curve ", group));
  }
  int width = (EVP_PKEY_get_bits(&key) + 7) / 8;
  absl::StatusOr<std::string> x = BignumParam(key, OSSL_PKEY_PARAM_EC_PUB_X, width);
  absl::StatusOr<std::string> y = BignumParam(key, OSSL_PKEY_PARAM_EC_PUB_Y, width);
  if (!x.ok() || !y.ok()) {
    return x.ok() ? y.status() : x.status();
  }
  return Json{
      {"kty", "EC"}, {"crv", *curve}, {"x", Base64UrlEncode(*x)}, {"y", Base64UrlEncode(*y)}};
}

absl::StatusOr<Json> RsaJwk(const EVP_PKEY& key) {
  absl::StatusOr<std::string> n = BignumParam(key, OSSL_PKEY_PARAM_RSA_N, 0);
  absl::StatusOr<std::string> e = BignumParam(key, OSSL_PKEY_PARAM_RSA_E, 0);
  if (!n.ok() || !e.ok()) {
    return n.ok() ? e.status() : n.status();
  }
  return Json{{"kty", "RSA"}, {"n", Base64UrlEncode(*n)}, {"e", Base64UrlEncode(*e)}};
}

absl::StatusOr<Json> PublicKeyJwk(const JwtPublicKey& key) {
  int type = EVP_PKEY_get_base_id(key.key.get());
  absl::StatusOr<Json> jwk =
      type == EVP_PKEY_EC ? EcJwk(*key.key)
      : type == EVP_PKEY_RSA
          ? RsaJwk(*key.key)
          : absl::InvalidArgumentError(Concat("key ", key.kid, " is neither EC nor RSA"));
  if (jwk.ok()) {
    (*jwk)["kid"] = key.kid;
    (*jwk)["use"] = kJwtSvidUse;
  }
  return jwk;
}

}  // namespace

std::shared_ptr<EVP_PKEY> ShareKey(EvpPkeyPtr key) {
  return std::shared_ptr<EVP_PKEY>(key.release(), EVP_PKEY_free);
}

absl::StatusOr<std::string> RenderJwks(const std::vector<JwtPublicKey>& keys) {
  Json list = Json::array();
  for (const JwtPublicKey& key : keys) {
    absl::StatusOr<Json> jwk = PublicKeyJwk(key);
    if (!jwk.ok()) {
      return jwk.status();
    }
    list.push_back(*std::move(jwk));
  }
  // nlohmann::json keeps object members sorted: the bytes are deterministic.
  return Json{{"keys", std::move(list)}}.dump();
}

}  // namespace reattest::identity
