#include "identity/jwt/jwt_svid.h"

#include <nlohmann/json.hpp>

#include "common/strings.h"
#include "identity/jwt/base64url.h"
#include "identity/jwt/jws.h"

namespace reattest::identity {
namespace {

using Clock = std::chrono::system_clock;
using Json = nlohmann::json;

// A token minted on a host whose clock runs ahead is still accepted.
constexpr std::chrono::seconds kNotBeforeLeeway(30);

int64_t UnixSeconds(Clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
}

absl::Status Invalid(const std::string& reason) { return absl::InvalidArgumentError(reason); }

// The token's three parts, still encoded.
struct JwsParts {
  std::string_view header;
  std::string_view payload;
  std::string_view signature;
  std::string_view signing_input;
};

absl::StatusOr<JwsParts> SplitCompact(std::string_view token) {
  size_t first = token.find('.');
  size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return Invalid("malformed token: expected three dot-separated parts");
  }
  return JwsParts{token.substr(0, first), token.substr(first + 1, second - first - 1),
                  token.substr(second + 1), token.substr(0, second)};
}

absl::StatusOr<Json> DecodeObject(std::string_view part, std::string_view what) {
  std::optional<std::string> text = Base64UrlDecode(part);
  if (!text) {
    return Invalid(Concat("malformed token: the ", what, " is not base64url"));
  }
  Json object = Json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!object.is_object()) {
    return Invalid(Concat("malformed token: the ", what, " is not a JSON object"));
  }
  return object;
}

struct Header {
  JwsAlgorithm algorithm;
  std::string kid;
};

absl::StatusOr<Header> ParseHeader(const Json& header) {
  auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string()) {
    return Invalid("the token's header has no alg");
  }
  std::string name = alg->get<std::string>();
  std::optional<JwsAlgorithm> algorithm = ParseJwsAlgorithm(name);
  if (!algorithm) {
    return Invalid(Concat("algorithm ", name, " is not allowed"));
  }
  if (header.contains("crit")) {
    return Invalid("the token's header has critical extensions, which are not supported");
  }
  auto kid = header.find("kid");
  if (kid == header.end() || !kid->is_string()) {
    return Invalid("the token's header has no kid");
  }
  auto typ = header.find("typ");
  if (typ != header.end() && *typ != "JWT" && *typ != "JOSE") {
    return Invalid("the token's typ is neither JWT nor JOSE");
  }
  return Header{*algorithm, kid->get<std::string>()};
}

absl::StatusOr<SpiffeId> ParseSubject(const Json& claims) {
  auto sub = claims.find("sub");
  if (sub == claims.end() || !sub->is_string()) {
    return Invalid("the token has no sub");
  }
  absl::StatusOr<SpiffeId> id = SpiffeId::Parse(sub->get<std::string>());
  if (!id.ok()) {
    return Invalid(Concat("the token's sub is not a SPIFFE ID: ", id.status().message()));
  }
  return id;
}

absl::StatusOr<const JwtPublicKey*> FindKey(const JwtTrust& trust, std::string_view trust_domain,
                                            std::string_view kid) {
  auto bundle = trust.find(trust_domain);
  if (bundle == trust.end()) {
    return Invalid(Concat("trust domain ", trust_domain, " is not trusted"));
  }
  for (const JwtPublicKey& key : bundle->second) {
    if (key.kid == kid) {
      return &key;
    }
  }
  return Invalid(Concat("no key ", kid, " in the JWT bundle of ", trust_domain));
}

absl::Status CheckTimes(const Json& claims, Clock::time_point now) {
  auto exp = claims.find("exp");
  if (exp == claims.end() || !exp->is_number()) {
    return Invalid("the token has no exp");
  }
  double seconds_now = static_cast<double>(UnixSeconds(now));
  if (exp->get<double>() <= seconds_now) {
    return Invalid("the token has expired");
  }
  auto nbf = claims.find("nbf");
  if (nbf != claims.end() &&
      (!nbf->is_number() || nbf->get<double>() > seconds_now + kNotBeforeLeeway.count())) {
    return Invalid("the token is not valid yet");
  }
  return absl::OkStatus();
}

absl::Status CheckAudience(const Json& claims, std::string_view audience) {
  auto aud = claims.find("aud");
  if (aud == claims.end()) {
    return Invalid("the token has no aud");
  }
  if (aud->is_string() && *aud == audience) {
    return absl::OkStatus();
  }
  if (aud->is_array()) {
    for (const Json& item : *aud) {
      if (item.is_string() && item == audience) {
        return absl::OkStatus();
      }
    }
  }
  return Invalid(Concat("the token's aud does not name ", audience));
}

}  // namespace

absl::StatusOr<std::string> SignJwtSvid(const JwtSvidClaims& claims, const JwtPublicKey& key) {
  Json header = {{"alg", "ES256"}, {"kid", key.kid}, {"typ", "JWT"}};
  Json payload = {{"sub", claims.subject.str()},
                  {"aud", claims.audience},
                  {"iat", UnixSeconds(claims.issued_at)},
                  {"exp", UnixSeconds(claims.expiry)}};
  std::string input = Concat(Base64UrlEncode(header.dump()), ".", Base64UrlEncode(payload.dump()));
  absl::StatusOr<std::string> signature = JwsSign(JwsAlgorithm::kES256, *key.key, input);
  if (!signature.ok()) {
    return signature.status();
  }
  return Concat(input, ".", Base64UrlEncode(*signature));
}

// The signature is checked before any claim, so nothing about an unverified
// token's contents is reported beyond what picked its key.
absl::StatusOr<ValidatedJwtSvid> ValidateJwtSvid(std::string_view token, std::string_view audience,
                                                 const JwtTrust& trust, Clock::time_point now) {
  absl::StatusOr<JwsParts> parts = SplitCompact(token);
  if (!parts.ok()) {
    return parts.status();
  }
  absl::StatusOr<Json> header_json = DecodeObject(parts->header, "header");
  if (!header_json.ok()) {
    return header_json.status();
  }
  absl::StatusOr<Header> header = ParseHeader(*header_json);
  if (!header.ok()) {
    return header.status();
  }
  if (parts->signature.empty()) {
    return Invalid("the token is not signed");
  }
  absl::StatusOr<Json> claims = DecodeObject(parts->payload, "payload");
  if (!claims.ok()) {
    return claims.status();
  }
  absl::StatusOr<SpiffeId> subject = ParseSubject(*claims);
  if (!subject.ok()) {
    return subject.status();
  }
  absl::StatusOr<const JwtPublicKey*> key = FindKey(trust, subject->trust_domain(), header->kid);
  if (!key.ok()) {
    return key.status();
  }
  std::optional<std::string> signature = Base64UrlDecode(parts->signature);
  if (!signature) {
    return Invalid("malformed token: the signature is not base64url");
  }
  absl::Status verified =
      JwsVerify(header->algorithm, *(*key)->key, parts->signing_input, *signature);
  if (!verified.ok()) {
    return verified;
  }
  if (absl::Status times = CheckTimes(*claims, now); !times.ok()) {
    return times;
  }
  if (absl::Status aud = CheckAudience(*claims, audience); !aud.ok()) {
    return aud;
  }
  return ValidatedJwtSvid{*std::move(subject), claims->dump()};
}

}  // namespace reattest::identity
