// Federated bundles: reading the files, keeping the last good one, and which
// workloads see which bundles.
#include "identity/trust.h"

#include <catch2/catch.hpp>
#include <fstream>

#include "common/process.h"
#include "identity/local/local_ca.h"
#include "tests/unit/temp_dir.h"

namespace reattest::identity {
namespace {

using std::chrono::hours;

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

}  // namespace
}  // namespace reattest::identity
