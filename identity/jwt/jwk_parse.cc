// ParseJwk(): public JWKs to OpenSSL keys (declared in jwk.h).
#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "common/strings.h"
#include "identity/jwt/base64url.h"
#include "identity/jwt/jwk.h"
#include "identity/local/x509_util.h"

namespace reattest::identity {
namespace {

using Json = nlohmann::json;
using ParamBldPtr = OpenSslPtr<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>;
using ParamsPtr = OpenSslPtr<OSSL_PARAM, OSSL_PARAM_free>;
using PkeyCtxPtr = OpenSslPtr<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;

// OpenSSL's SEC names of the JOSE curves.
std::optional<std::string_view> OpenSslCurve(std::string_view jose_name) {
  if (jose_name == "P-256") {
    return "prime256v1";
  }
  if (jose_name == "P-384") {
    return "secp384r1";
  }
  if (jose_name == "P-521") {
    return "secp521r1";
  }
  return std::nullopt;
}

// A base64url member of `jwk`, decoded.
absl::StatusOr<std::string> Member(const Json& jwk, const char* name) {
  auto value = jwk.find(name);
  std::optional<std::string> bytes;
  if (value != jwk.end() && value->is_string()) {
    bytes = Base64UrlDecode(value->get<std::string>());
  }
  if (!bytes || bytes->empty()) {
    return absl::InvalidArgumentError(Concat("JWK member ", name, " is missing or not base64url"));
  }
  return *std::move(bytes);
}

absl::StatusOr<EvpPkeyPtr> KeyFromParams(const char* type, OSSL_PARAM_BLD& builder) {
  ParamsPtr params(OSSL_PARAM_BLD_to_param(&builder));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return absl::InvalidArgumentError(Concat("the JWK is not a valid ", type, " public key"));
  }
  return EvpPkeyPtr(key);
}

absl::StatusOr<EvpPkeyPtr> EcFromJwk(const Json& jwk) {
  std::optional<std::string_view> curve;
  if (jwk.contains("crv") && jwk["crv"].is_string()) {
    curve = OpenSslCurve(jwk["crv"].get<std::string>());
  }
  if (!curve) {
    return absl::InvalidArgumentError("the JWK's crv is not P-256, P-384 or P-521");
  }
  absl::StatusOr<std::string> x = Member(jwk, "x");
  absl::StatusOr<std::string> y = Member(jwk, "y");
  if (!x.ok() || !y.ok()) {
    return x.ok() ? y.status() : x.status();
  }
  std::string point = "\x04" + *x + *y;
  ParamBldPtr builder(OSSL_PARAM_BLD_new());
  if (!builder ||
      OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve->data(),
                                      0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return OpenSslError("build EC key parameters");
  }
  return KeyFromParams("EC", *builder);
}

absl::StatusOr<EvpPkeyPtr> RsaFromJwk(const Json& jwk) {
  absl::StatusOr<std::string> n = Member(jwk, "n");
  absl::StatusOr<std::string> e = Member(jwk, "e");
  if (!n.ok() || !e.ok()) {
    return n.ok() ? e.status() : n.status();
  }
  auto bignum = [](const std::string& bytes) {
    return BignumPtr(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                               static_cast<int>(bytes.size()), nullptr));
  };
  BignumPtr modulus = bignum(*n);
  BignumPtr exponent = bignum(*e);
  ParamBldPtr builder(OSSL_PARAM_BLD_new());
  if (!builder || !modulus || !exponent ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, modulus.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, exponent.get()) != 1) {
    return OpenSslError("build RSA key parameters");
  }
  return KeyFromParams("RSA", *builder);
}

}  // namespace

absl::StatusOr<JwtPublicKey> ParseJwk(std::string_view json) {
  Json jwk = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!jwk.is_object() || !jwk.contains("kty") || !jwk["kty"].is_string()) {
    return absl::InvalidArgumentError("a JWK must be a JSON object with kty");
  }
  std::string kty = jwk["kty"].get<std::string>();
  absl::StatusOr<EvpPkeyPtr> key =
      kty == "EC"    ? EcFromJwk(jwk)
      : kty == "RSA" ? RsaFromJwk(jwk)
                     : absl::InvalidArgumentError(Concat("unsupported JWK kty ", kty));
  if (!key.ok()) {
    return key.status();
  }
  std::string kid =
      jwk.contains("kid") && jwk["kid"].is_string() ? jwk["kid"].get<std::string>() : std::string();
  return JwtPublicKey{std::move(kid), ShareKey(*std::move(key))};
}

}  // namespace reattest::identity
