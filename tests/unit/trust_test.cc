// Federated bundles: reading the files, keeping the last good one, and which
// workloads see which bundles.
#include "identity/trust.h"

#include <openssl/evp.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/process.h"
#include "identity/jwt/jws.h"
#include "identity/local/local_ca.h"
#include "identity/local/x509_util.h"
#include "tests/unit/temp_dir.h"

namespace reattest::identity {
namespace {

using Clock = std::chrono::system_clock;
using Json = nlohmann::json;
using std::chrono::hours;

std::string Base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int size = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                             reinterpret_cast<const unsigned char*>(bytes.data()),
                             static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(size));
  return out;
}

// A SPIFFE bundle document: the CA of `ca_pem` and the JWT authority `jwt_key`.
std::string SpiffeBundle(const std::string& ca_pem, const JwtPublicKey& jwt_key) {
  Json document = Json::parse(*RenderJwks({jwt_key}));
  std::string der = *CertificateDer(*ParseCertificatesPem(ca_pem)->front());
  document["keys"].push_back({{"use", "x509-svid"}, {"kty", "EC"}, {"x5c", {Base64(der)}}});
  document["spiffe_sequence"] = 1;
  return document.dump(2);
}

JwtPublicKey NewKey(const std::string& kid, EvpPkeyPtr key) {
  return {kid, ShareKey(std::move(key))};
}

class TrustFixture {
 public:
  // A CA certificate in PEM, as a partner's bundle file would hold it.
  std::string PartnerPem(const std::string& name) {
    std::string data = dir_.Join(name);
    REQUIRE(LocalCa::LoadOrCreate(data, "partner.org", hours(24)).ok());
    return *ReadSmallFile(data + "/ca.pem");
  }
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = dir_.Join(name);
    std::ofstream(path, std::ios::trunc) << text;
    return path;
  }

 protected:
  testing::TempDir dir_;
};

TEST_CASE_METHOD(TrustFixture, "A bundle file is read, and a broken one keeps the last good",
                 "[trust]") {
  std::map<std::string, std::string> files = {
      {"spiffe://partner.org", Write("partner.pem", PartnerPem("ca1"))}};
  std::vector<absl::Status> errors;
  BundleFiles first = ReadBundleFiles(files, {}, errors);
  REQUIRE(errors.empty());
  REQUIRE(first.bundles.contains("spiffe://partner.org"));
  CHECK_FALSE(first.bundles.at("spiffe://partner.org")->x509_der.empty());
  CHECK(first.bundles.at("spiffe://partner.org")->jwks == R"({"keys":[]})");

  SECTION("unchanged: the same bundle object") {
    BundleFiles again = ReadBundleFiles(files, first, errors);
    CHECK(errors.empty());
    CHECK(again == first);
    CHECK(again.bundles.at("spiffe://partner.org") == first.bundles.at("spiffe://partner.org"));
  }
  SECTION("broken: an error naming the file, and the last good bundle") {
    Write("partner.pem", "garbage\n");
    BundleFiles again = ReadBundleFiles(files, first, errors);
    REQUIRE(errors.size() == 1);
    CHECK(std::string(errors[0].message()).starts_with(files.begin()->second + ": "));
    CHECK(again == first);
  }
  SECTION("changed: a new bundle") {
    Write("partner.pem", PartnerPem("ca2"));
    BundleFiles again = ReadBundleFiles(files, first, errors);
    CHECK(errors.empty());
    CHECK(again.bundles.at("spiffe://partner.org")->x509_der !=
          first.bundles.at("spiffe://partner.org")->x509_der);
  }
}

TEST_CASE_METHOD(TrustFixture, "Only entries that federate with a trust domain show its bundle",
                 "[trust]") {
  std::vector<absl::Status> errors;
  std::string pem = Write("partner.pem", PartnerPem("ca"));
  // A file claiming to be the own trust domain's bundle is never handed out.
  BundleFiles files =
      ReadBundleFiles({{"spiffe://partner.org", pem}, {"spiffe://example.org", pem}}, {}, errors);
  REQUIRE(errors.empty());
  IdentitySnapshot base;
  base.trust_domain = "example.org";
  base.entries = {
      Entry{.spiffe_id = *SpiffeId::Parse("spiffe://example.org/plain")},
      Entry{.spiffe_id = *SpiffeId::Parse("spiffe://example.org/fed"),
            .federates_with = {"spiffe://partner.org", "spiffe://unknown.org",
                               "spiffe://example.org"}},
  };
  std::shared_ptr<const IdentitySnapshot> snapshot = WithTrust(base, nullptr, files.bundles);

  CHECK(FederatedFor(*snapshot, {0}).empty());
  std::vector<const TrustBundle*> seen = FederatedFor(*snapshot, {0, 1});
  REQUIRE(seen.size() == 1);
  CHECK(seen[0]->trust_domain_id == "spiffe://partner.org");
  CHECK(JwtTrustFor(*snapshot, {0, 1}).contains("partner.org"));
  CHECK_FALSE(JwtTrustFor(*snapshot, {0, 1}).contains("unknown.org"));
  CHECK_FALSE(JwtTrustFor(*snapshot, {0}).contains("partner.org"));
}

TEST_CASE_METHOD(TrustFixture, "A SPIFFE bundle file brings the partner's JWT authorities",
                 "[trust]") {
  std::string ca_pem = PartnerPem("ca");
  JwtPublicKey signer = NewKey("partner-1", *GenerateP256Key());
  std::vector<absl::Status> errors;
  BundleFiles files = ReadBundleFiles(
      {{"spiffe://partner.org", Write("partner.json", SpiffeBundle(ca_pem, signer))}}, {}, errors);
  INFO((errors.empty() ? "" : errors[0].ToString()));
  REQUIRE(errors.empty());
  const TrustBundle& bundle = *files.bundles.at("spiffe://partner.org");
  CHECK(bundle.x509_der == *CertificateDer(*ParseCertificatesPem(ca_pem)->front()));
  CHECK(Json::parse(bundle.jwks)["keys"][0]["kid"] == "partner-1");

  IdentitySnapshot base;
  base.trust_domain = "example.org";
  base.entries = {Entry{.spiffe_id = *SpiffeId::Parse("spiffe://example.org/fed"),
                        .federates_with = {"spiffe://partner.org"}}};
  auto snapshot = WithTrust(base, nullptr, files.bundles);
  Clock::time_point now = Clock::now();
  std::string token = *SignJwtSvid(
      {*SpiffeId::Parse("spiffe://partner.org/api"), {"me"}, now, now + hours(1)}, signer);
  absl::StatusOr<ValidatedJwtSvid> validated =
      ValidateJwtSvid(token, "me", JwtTrustFor(*snapshot, {0}), now);
  INFO(validated.status().ToString());
  CHECK(validated.ok());
  CHECK_FALSE(ValidateJwtSvid(token, "me", JwtTrustFor(*snapshot, {}), now).ok());
}

TEST_CASE("An RSA JWK round-trips and verifies RS256 signatures", "[trust]") {
  EvpPkeyPtr rsa(EVP_RSA_gen(2048));
  REQUIRE(rsa);
  JwtPublicKey key = NewKey("rsa-1", std::move(rsa));
  Json jwk = Json::parse(*RenderJwks({key}))["keys"][0];
  CHECK(jwk["kty"] == "RSA");
  absl::StatusOr<JwtPublicKey> parsed = ParseJwk(jwk.dump());
  REQUIRE(parsed.ok());
  CHECK(parsed->kid == "rsa-1");
  CHECK(EVP_PKEY_eq(parsed->key.get(), key.key.get()) == 1);

  absl::StatusOr<std::string> signature = JwsSign(JwsAlgorithm::kRS256, *key.key, "input");
  REQUIRE(signature.ok());
  CHECK(JwsVerify(JwsAlgorithm::kRS256, *parsed->key, "input", *signature).ok());
  CHECK_FALSE(JwsVerify(JwsAlgorithm::kRS256, *parsed->key, "other", *signature).ok());
}

TEST_CASE("A JWK that is not a key is refused with the reason", "[trust]") {
  CHECK(ParseJwk(R"({"kty":"oct","k":"c2VjcmV0"})").status().message() ==
        "unsupported JWK kty oct");
  CHECK(ParseJwk(R"({"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"})").status().message() ==
        "the JWK is not a valid EC public key");
}

}  // namespace
}  // namespace reattest::identity
