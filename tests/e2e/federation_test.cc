// End to end: federated bundles (SPEC sections 4 and 5). A workload sees
// another trust domain's bundle only when one of its entries federates with
// it, and a change of the bundle file reaches its open streams.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>

#include "tests/support/agent_fixture.h"
#include "tests/support/test_ca.h"
#include "tests/support/workload_client.h"

namespace reattest::testing {
namespace {

constexpr char kPartner[] = "spiffe://partner.org";
constexpr char kOwn[] = "spiffe://example.org";

const std::string kFederatingEntries =
    "entries:\n"
    "  - spiffe_id: spiffe://example.org/root\n"
    "    selectors: [unix:uid:0]\n"
    "    federates_with: [spiffe://partner.org]\n";

const std::string kFederationConfig =
    "identity: {local: {entries_file: entries.yaml, "
    "federated_bundles: {spiffe://partner.org: partner.pem}}}\n";

// Replaces the file the way operators and ConfigMaps do: a new inode renamed in.
void ReplaceFile(const TempDir& dir, const std::string& name, const std::string& contents) {
  dir.Write(name + ".new", contents);
  REQUIRE(std::rename((dir / (name + ".new")).c_str(), (dir / name).c_str()) == 0);
}

TEST_CASE("A federating workload sees the partner bundle on every Workload API stream",
          "[e2e][federation]") {
  TestCa partner = MakeTestCa("partner");
  AgentFixture fixture(kFederatingEntries, kFederationConfig);
  fixture.dir().Write("partner.pem", partner.pem);
  auto agent = fixture.Start();
  REQUIRE(agent->ready());

  std::optional<X509SVIDResponse> svids = X509Stream(fixture.socket()).Next();
  REQUIRE(svids);
  CHECK(svids->federated_bundles().at(kPartner) == partner.der);

  std::optional<X509BundlesResponse> x509 = X509BundlesStream(fixture.socket()).Next();
  REQUIRE(x509);
  CHECK(x509->bundles().size() == 2);
  CHECK(x509->bundles().at(kPartner) == partner.der);
  CHECK(x509->bundles().at(kOwn) == svids->svids(0).bundle());

  std::optional<JWTBundlesResponse> jwt = JwtBundlesStream(fixture.socket()).Next();
  REQUIRE(jwt);
  // A PEM bundle carries no JWT authorities.
  CHECK(jwt->bundles().at(kPartner) == R"({"keys":[]})");
  CHECK(jwt->bundles().contains(kOwn));
}

TEST_CASE("A workload whose entries do not federate does not see the partner bundle",
          "[e2e][federation]") {
  AgentFixture fixture(EntriesYaml({{"/root", "unix:uid:0"}}), kFederationConfig);
  fixture.dir().Write("partner.pem", MakeTestCa("partner").pem);
  auto agent = fixture.Start();
  REQUIRE(agent->ready());

  std::optional<X509SVIDResponse> svids = X509Stream(fixture.socket()).Next();
  REQUIRE(svids);
  CHECK(svids->federated_bundles().empty());
  std::optional<X509BundlesResponse> x509 = X509BundlesStream(fixture.socket()).Next();
  REQUIRE(x509);
  CHECK(x509->bundles().size() == 1);
  CHECK(x509->bundles().contains(kOwn));
}

TEST_CASE("A changed federated bundle file is pushed to open streams", "[e2e][federation]") {
  TestCa before = MakeTestCa("partner-1");
  TestCa after = MakeTestCa("partner-2");
  AgentFixture fixture(kFederatingEntries, kFederationConfig);
  fixture.dir().Write("partner.pem", before.pem);
  auto agent = fixture.Start();
  REQUIRE(agent->ready());

  X509BundlesStream bundles(fixture.socket());
  X509Stream svids(fixture.socket());
  std::optional<X509BundlesResponse> first_bundles = bundles.Next();
  std::optional<X509SVIDResponse> first_svids = svids.Next();
  REQUIRE(first_bundles);
  REQUIRE(first_svids);
  CHECK(first_bundles->bundles().at(kPartner) == before.der);

  ReplaceFile(fixture.dir(), "partner.pem", after.pem);

  std::optional<X509BundlesResponse> pushed_bundles = bundles.Next();
  REQUIRE(pushed_bundles);
  CHECK(pushed_bundles->bundles().at(kPartner) == after.der);
  std::optional<X509SVIDResponse> pushed_svids = svids.Next();
  REQUIRE(pushed_svids);
  CHECK(pushed_svids->federated_bundles().at(kPartner) == after.der);
  // The SVID itself did not change: only the bundle did.
  CHECK(pushed_svids->svids(0).x509_svid() == first_svids->svids(0).x509_svid());
}

TEST_CASE("A broken federated bundle file keeps the last good bundle", "[e2e][federation]") {
  TestCa good = MakeTestCa("partner");
  AgentFixture fixture(kFederatingEntries, kFederationConfig);
  fixture.dir().Write("partner.pem", good.pem);
  auto agent = fixture.Start();
  REQUIRE(agent->ready());
  X509Stream svids(fixture.socket());
  REQUIRE(svids.Next());

  ReplaceFile(fixture.dir(), "partner.pem", "not a certificate\n");
  // An entries edit after it: the rebuild that publishes it has read the
  // broken bundle file too.
  ReplaceFile(fixture.dir(), "entries.yaml",
              kFederatingEntries +
                  "  - spiffe_id: spiffe://example.org/by-gid\n"
                  "    selectors: [unix:gid:0]\n");
  std::optional<X509SVIDResponse> pushed = svids.Next();
  REQUIRE(pushed);
  CHECK(pushed->svids_size() == 2);
  CHECK(pushed->federated_bundles().at(kPartner) == good.der);
}

}  // namespace
}  // namespace reattest::testing
