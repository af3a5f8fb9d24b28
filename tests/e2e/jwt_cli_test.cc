// End to end: the debugging clients for JWT-SVIDs and bundles, run as the
// built binary against a running agent.
#include <catch2/catch.hpp>
#include <filesystem>

#include "tests/support/agent_fixture.h"
#include "tests/support/agent_process.h"
#include "tests/support/test_ca.h"

namespace reattest::testing {
namespace {

const std::string kFederatingEntries =
    "entries:\n"
    "  - spiffe_id: spiffe://example.org/root\n"
    "    selectors: [unix:uid:0]\n"
    "    federates_with: [spiffe://partner.org]\n";

// A federating workload's agent, with partner.pem in place.
AgentFixture FederatingFixture() {
  return AgentFixture(kFederatingEntries,
                      "identity: {local: {entries_file: entries.yaml, "
                      "federated_bundles: {spiffe://partner.org: partner.pem}}}\n");
}

// The token line of `api fetch jwt` output: the line after `token(ID):`.
std::string TokenFrom(const std::string& output) {
  size_t start = output.find("):\n\t");
  REQUIRE(start != std::string::npos);
  start += 4;
  return output.substr(start, output.find('\n', start) - start);
}

TEST_CASE("api fetch jwt prints a token that api validate jwt accepts", "[e2e][cli][jwt]") {
  AgentFixture fixture(EntriesYaml({{"/root", "unix:uid:0"}}));
  auto agent = fixture.Start();
  REQUIRE(agent->ready());

  std::string fetched;
  REQUIRE(RunReattest({"api", "fetch", "jwt", "--audience", "db", "--socket", fixture.socket()},
                      &fetched) == 0);
  INFO(fetched);
  CHECK(fetched.starts_with("token(spiffe://example.org/root):\n\t"));
  CHECK(fetched.find("bundle(spiffe://example.org):") != std::string::npos);

  std::string validated;
  int status = RunReattest({"api", "validate", "jwt", "--audience", "db", "--svid",
                            TokenFrom(fetched), "--socket", fixture.socket()},
                           &validated);
  INFO(validated);
  CHECK(status == 0);
  CHECK(validated.find("SPIFFE ID : spiffe://example.org/root") != std::string::npos);
}

TEST_CASE("api validate jwt prints the reason a token is refused and exits 1", "[e2e][cli][jwt]") {
  AgentFixture fixture(EntriesYaml({{"/root", "unix:uid:0"}}));
  auto agent = fixture.Start();
  REQUIRE(agent->ready());

  std::string output;
  int status = RunReattest({"api", "validate", "jwt", "--audience", "db", "--svid", "a.b.c",
                            "--socket", fixture.socket()},
                           &output);
  CHECK(status == 1);
  CHECK(output.find("INVALID_ARGUMENT: malformed token") != std::string::npos);
}

TEST_CASE("api fetch bundles prints own and federated bundles", "[e2e][cli][federation]") {
  AgentFixture fixture = FederatingFixture();
  fixture.dir().Write("partner.pem", MakeTestCa("partner").pem);
  auto agent = fixture.Start();
  REQUIRE(agent->ready());

  std::string output;
  REQUIRE(RunReattest({"api", "fetch", "bundles", "--socket", fixture.socket()}, &output) == 0);
  INFO(output);
  CHECK(output.find("bundle(spiffe://partner.org):\nCA #1 Valid After:") != std::string::npos);
  CHECK(output.find("bundle(spiffe://example.org):\n\t{\"keys\":[{") != std::string::npos);
}

TEST_CASE("api fetch x509 --write writes the federated bundles", "[e2e][cli][federation]") {
  AgentFixture fixture = FederatingFixture();
  fixture.dir().Write("partner.pem", MakeTestCa("partner").pem);
  auto agent = fixture.Start();
  REQUIRE(agent->ready());

  std::string output;
  int status = RunReattest(
      {"api", "fetch", "x509", "--socket", fixture.socket(), "--write", fixture.dir().path()},
      &output);
  INFO(output);
  REQUIRE(status == 0);
  CHECK(std::filesystem::file_size(fixture.dir() / "federated_bundle.0.0.pem") > 100);
}

}  // namespace
}  // namespace reattest::testing
