// JWT-SVIDs: encoding, signing, validation failures and JWKS rendering.
#include <openssl/hmac.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "identity/jwt/base64url.h"
#include "identity/jwt/jws.h"
#include "identity/jwt/jwt_svid.h"
#include "identity/local/x509_util.h"

namespace reattest::identity {
namespace {

using Clock = std::chrono::system_clock;
using Json = nlohmann::json;
using std::chrono::minutes;
using std::chrono::seconds;

const Clock::time_point kNow = Clock::time_point(seconds(1'800'000'000));

JwtPublicKey NewKey(const std::string& kid) {
  absl::StatusOr<EvpPkeyPtr> key = GenerateP256Key();
  REQUIRE(key.ok());
  return {kid, ShareKey(*std::move(key))};
}

JwtSvidClaims Claims(const std::string& subject, std::vector<std::string> audience = {"db"}) {
  return {*SpiffeId::Parse(subject), std::move(audience), kNow, kNow + minutes(5)};
}

std::string Sign(const JwtSvidClaims& claims, const JwtPublicKey& key) {
  absl::StatusOr<std::string> token = SignJwtSvid(claims, key);
  REQUIRE(token.ok());
  return *token;
}

// A token with any header, payload and signature bytes.
std::string Assemble(const Json& header, const Json& payload, const std::string& signature) {
  return Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(payload.dump()) + "." +
         Base64UrlEncode(signature);
}

Json Payload(const std::string& subject) {
  return {{"sub", subject}, {"aud", {"db"}}, {"exp", 1'800'000'300}, {"iat", 1'800'000'000}};
}

std::string RejectionOf(const std::string& token, const JwtTrust& trust,
                        Clock::time_point now = kNow, const std::string& audience = "db") {
  absl::StatusOr<ValidatedJwtSvid> validated = ValidateJwtSvid(token, audience, trust, now);
  REQUIRE_FALSE(validated.ok());
  CHECK(validated.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(validated.status().message());
}

TEST_CASE("base64url round-trips every length and rejects what is not canonical", "[jwt]") {
  std::string bytes;
  for (int length = 0; length < 8; ++length) {
    CHECK(Base64UrlDecode(Base64UrlEncode(bytes)) == bytes);
    bytes.push_back(static_cast<char>(0xf0 + length));
  }
  CHECK(Base64UrlEncode("\xfb\xff") == "-_8");
  CHECK_FALSE(Base64UrlDecode("ab=="));   // padding
  CHECK_FALSE(Base64UrlDecode("a+b/"));   // the standard alphabet
  CHECK_FALSE(Base64UrlDecode("abcde"));  // a lone trailing character
  CHECK_FALSE(Base64UrlDecode("ab"));     // trailing bits set
}

TEST_CASE("A signed JWT-SVID validates with its subject and claims", "[jwt]") {
  JwtPublicKey key = NewKey("k1");
  std::string token = Sign(Claims("spiffe://example.org/web", {"db", "cache"}), key);
  JwtTrust trust{{"example.org", {key}}};

  absl::StatusOr<ValidatedJwtSvid> validated =
      ValidateJwtSvid(token, "cache", trust, kNow + minutes(1));
  INFO(validated.status().ToString());
  REQUIRE(validated.ok());
  CHECK(validated->spiffe_id.str() == "spiffe://example.org/web");
  Json claims = Json::parse(validated->claims_json);
  CHECK(claims["aud"] == Json({"db", "cache"}));
  CHECK(claims["exp"] == 1'800'000'300);
  CHECK(claims["iat"] == 1'800'000'000);
}

TEST_CASE("A token's header names ES256, its key and the JWT type", "[jwt]") {
  std::string token = Sign(Claims("spiffe://example.org/web"), NewKey("k1"));
  Json header = Json::parse(*Base64UrlDecode(token.substr(0, token.find('.'))));
  CHECK(header == Json({{"alg", "ES256"}, {"kid", "k1"}, {"typ", "JWT"}}));
}

TEST_CASE("Validation names why a token is refused", "[jwt]") {
  JwtPublicKey key = NewKey("k1");
  JwtTrust trust{{"example.org", {key}}};
  std::string token = Sign(Claims("spiffe://example.org/web"), key);

  SECTION("a signature by another key with the same kid") {
    std::string forged = Sign(Claims("spiffe://example.org/web"), NewKey("k1"));
    CHECK(RejectionOf(forged, trust) == "the signature does not verify");
  }
  SECTION("a payload changed after signing") {
    size_t first = token.find('.');
    size_t second = token.find('.', first + 1);
    std::string tampered = token.substr(0, first + 1) +
                           Base64UrlEncode(Payload("spiffe://example.org/admin").dump()) +
                           token.substr(second);
    CHECK(RejectionOf(tampered, trust) == "the signature does not verify");
  }
  SECTION("expired") {
    CHECK(RejectionOf(token, trust, kNow + minutes(5)) == "the token has expired");
  }
  SECTION("another audience") {
    CHECK(RejectionOf(token, trust, kNow, "web") == "the token's aud does not name web");
  }
  SECTION("an unknown kid") {
    JwtTrust other{{"example.org", {NewKey("k2")}}};
    CHECK(RejectionOf(token, other) == "no key k1 in the JWT bundle of example.org");
  }
  SECTION("a trust domain the caller does not federate with") {
    JwtPublicKey partner = NewKey("p1");
    std::string foreign = Sign(Claims("spiffe://partner.org/api"), partner);
    CHECK(RejectionOf(foreign, trust) == "trust domain partner.org is not trusted");
  }
  SECTION("not three parts") { CHECK(RejectionOf("a.b", trust).starts_with("malformed token")); }
}

TEST_CASE("alg none and HMAC tokens are refused whatever they carry", "[jwt]") {
  JwtPublicKey key = NewKey("k1");
  JwtTrust trust{{"example.org", {key}}};
  Json payload = Payload("spiffe://example.org/web");

  SECTION("none, unsigned") {
    std::string token = Assemble({{"alg", "none"}, {"kid", "k1"}}, payload, "");
    CHECK(RejectionOf(token, trust) == "algorithm none is not allowed");
  }
  SECTION("HS256 keyed with the public key's JWKS bytes") {
    absl::StatusOr<std::string> jwks = RenderJwks({key});
    REQUIRE(jwks.ok());
    std::string input = Base64UrlEncode(Json({{"alg", "HS256"}, {"kid", "k1"}}).dump()) + "." +
                        Base64UrlEncode(payload.dump());
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    HMAC(EVP_sha256(), jwks->data(), static_cast<int>(jwks->size()),
         reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &size);
    std::string token = input + "." + Base64UrlEncode({reinterpret_cast<char*>(mac), size});
    CHECK(RejectionOf(token, trust) == "algorithm HS256 is not allowed");
  }
  SECTION("an allowed algorithm that does not fit the key") {
    std::string token = Assemble({{"alg", "RS256"}, {"kid", "k1"}}, payload, "sig");
    CHECK(RejectionOf(token, trust) == "the key's type does not fit RS256");
  }
}

TEST_CASE("The JWKS lists each key as an EC P-256 JWK for JWT-SVIDs", "[jwt]") {
  JwtPublicKey first = NewKey("k1");
  JwtPublicKey second = NewKey("k2");
  absl::StatusOr<std::string> jwks = RenderJwks({first, second});
  REQUIRE(jwks.ok());
  Json keys = Json::parse(*jwks)["keys"];
  REQUIRE(keys.size() == 2);
  CHECK(keys[0]["kid"] == "k1");
  CHECK(keys[1]["kid"] == "k2");
  CHECK(keys[0]["kty"] == "EC");
  CHECK(keys[0]["crv"] == "P-256");
  CHECK(keys[0]["use"] == "jwt-svid");

  // x and y are the key's public point, 32 bytes each.
  std::string point(65, '\0');
  size_t size = 0;
  REQUIRE(EVP_PKEY_get_octet_string_param(first.key.get(), "pub",
                                          reinterpret_cast<unsigned char*>(point.data()),
                                          point.size(), &size) == 1);
  REQUIRE(size == 65);
  CHECK(Base64UrlDecode(keys[0]["x"].get<std::string>()) == point.substr(1, 32));
  CHECK(Base64UrlDecode(keys[0]["y"].get<std::string>()) == point.substr(33, 32));
}

TEST_CASE("An empty key list renders as an empty JWKS", "[jwt]") {
  CHECK(RenderJwks({}).value() == R"({"keys":[]})");
}

}  // namespace
}  // namespace reattest::identity
