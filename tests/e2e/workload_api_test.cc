// End to end: the built agent binary on a temp socket, a gRPC client in this
// process, real kernel credentials (tests run as root).
#include <signal.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>

#include "tests/support/agent_fixture.h"
#include "tests/support/wait.h"
#include "tests/support/workload_client.h"
#include "tests/support/x509_check.h"

namespace reattest::testing {
namespace {

using std::chrono::milliseconds;

const std::string kRootEntries = EntriesYaml({{"/root", "unix:uid:0"}});

std::vector<std::string> SpiffeIds(const X509SVIDResponse& response) {
  std::vector<std::string> ids;
  for (const X509SVID& svid : response.svids()) {
    ids.push_back(svid.spiffe_id());
  }
  return ids;
}

TEST_CASE("A caller with a matching entry receives an SVID that chains to its bundle",
          "[e2e][x509]") {
  AgentFixture fixture(kRootEntries);
  auto agent = fixture.Start();
  REQUIRE(agent->ready());

  X509Stream stream(fixture.socket());
  std::optional<X509SVIDResponse> response = stream.Next();
  REQUIRE(response);
  REQUIRE(response->svids_size() == 1);
  const X509SVID& svid = response->svids(0);
  CHECK(svid.spiffe_id() == "spiffe://example.org/root");
  SvidCheck check = CheckSvid(svid.x509_svid(), svid.x509_svid_key(), svid.bundle());
  INFO(check.error);
  CHECK(check.chains_to_bundle);
  CHECK(check.uri_san == "spiffe://example.org/root");
  CHECK(check.key_matches);
}

TEST_CASE("SVIDs come in entries-file order, the first matching entry first", "[e2e][x509]") {
  AgentFixture fixture(EntriesYaml({{"/by-gid", "unix:gid:0"}, {"/by-uid", "unix:uid:0"}}));
  auto agent = fixture.Start();
  REQUIRE(agent->ready());

  X509Stream stream(fixture.socket());
  std::optional<X509SVIDResponse> response = stream.Next();
  REQUIRE(response);
  CHECK(SpiffeIds(*response) ==
        std::vector<std::string>{"spiffe://example.org/by-gid", "spiffe://example.org/by-uid"});
}

TEST_CASE("A call without the security header is refused with InvalidArgument", "[e2e][x509]") {
  AgentFixture fixture(kRootEntries);
  auto agent = fixture.Start();
  REQUIRE(agent->ready());

  X509Stream stream(fixture.socket(), /*with_header=*/false);
  grpc::Status status = stream.Finish();
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(status.error_message() == "security header missing from request");
}

TEST_CASE("A caller that no entry selects is refused with PermissionDenied", "[e2e][x509]") {
  AgentFixture fixture(EntriesYaml({{"/someone-else", "unix:uid:4321"}}));
  auto agent = fixture.Start();
  REQUIRE(agent->ready());

  X509Stream stream(fixture.socket());
  grpc::Status status = stream.Finish();
  CHECK(status.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(status.error_message() == "no identity issued");
}

TEST_CASE("The caller's UID comes from the kernel: another user gets only its own identity",
          "[e2e][x509]") {
  AgentFixture fixture(EntriesYaml({{"/root", "unix:uid:0"}, {"/app", "unix:uid:4321"}}));
  auto agent = fixture.Start();
  REQUIRE(agent->ready());
  // The socket's directory must be reachable by the unprivileged client.
  chmod(fixture.dir().path().c_str(), 0755);

  std::string output;
  int status =
      RunReattest({"api", "fetch", "x509", "--socket", fixture.socket()}, &output, {}, 4321);
  INFO(output);
  CHECK(status == 0);
  CHECK(output.find("spiffe://example.org/app") != std::string::npos);
  CHECK(output.find("spiffe://example.org/root") == std::string::npos);
}

TEST_CASE("Editing the entries file pushes the new set on the open stream", "[e2e][entries]") {
  AgentFixture fixture(kRootEntries);
  auto agent = fixture.Start();
  REQUIRE(agent->ready());
  X509Stream stream(fixture.socket());
  REQUIRE(stream.Next());

  SECTION("written in place") {
    fixture.dir().Write("entries.yaml",
                        EntriesYaml({{"/root", "unix:uid:0"}, {"/second", "unix:gid:0"}}));
  }
  SECTION("replaced by an atomic rename") {
    fixture.dir().Write("entries.tmp",
                        EntriesYaml({{"/root", "unix:uid:0"}, {"/second", "unix:gid:0"}}));
    std::rename((fixture.dir() / "entries.tmp").c_str(), fixture.entries_path().c_str());
  }

  std::optional<X509SVIDResponse> pushed = stream.Next(milliseconds(3000));
  REQUIRE(pushed);
  CHECK(SpiffeIds(*pushed) ==
        std::vector<std::string>{"spiffe://example.org/root", "spiffe://example.org/second"});
}

TEST_CASE("A broken entries edit keeps the last good entries and the stream", "[e2e][entries]") {
  AgentFixture fixture(kRootEntries);
  auto agent = fixture.Start();
  REQUIRE(agent->ready());
  X509Stream stream(fixture.socket());
  REQUIRE(stream.Next());

  fixture.dir().Write("entries.yaml", "entries:\n  - spiffe_id: [not, a, string\n");
  // Changes apply within 1 s; nothing may arrive for a rejected file.
  CHECK_FALSE(stream.Next(milliseconds(1500)));
  CHECK_FALSE(stream.ended());

  // The stream still works: a good edit arrives.
  fixture.dir().Write("entries.yaml",
                      EntriesYaml({{"/root", "unix:uid:0"}, {"/after", "unix:gid:0"}}));
  std::optional<X509SVIDResponse> pushed = stream.Next(milliseconds(3000));
  REQUIRE(pushed);
  CHECK(pushed->svids_size() == 2);
}

TEST_CASE("The CA kept in data_dir gives the same bundle after a restart", "[e2e][ca]") {
  AgentFixture fixture(kRootEntries);
  std::string first_bundle;
  {
    auto agent = fixture.Start();
    REQUIRE(agent->ready());
    X509Stream stream(fixture.socket());
    std::optional<X509SVIDResponse> response = stream.Next();
    REQUIRE(response);
    first_bundle = response->svids(0).bundle();
  }
  auto agent = fixture.Start();
  REQUIRE(agent->ready());
  X509Stream stream(fixture.socket());
  std::optional<X509SVIDResponse> response = stream.Next();
  REQUIRE(response);
  CHECK(response->svids(0).bundle() == first_bundle);

  struct stat key_stat {};
  REQUIRE(stat((fixture.dir() / "data/ca.key").c_str(), &key_stat) == 0);
  CHECK((key_stat.st_mode & 0777) == 0600);
}

TEST_CASE("SIGTERM ends open streams with Unavailable and removes the socket", "[e2e][shutdown]") {
  AgentFixture fixture(kRootEntries);
  auto agent = fixture.Start();
  REQUIRE(agent->ready());
  X509Stream stream(fixture.socket());
  REQUIRE(stream.Next());

  agent->Signal(SIGTERM);
  grpc::Status status = stream.Finish();
  CHECK(status.error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK(status.error_message() == "agent shutting down");
  CHECK(agent->WaitExit() == 0);
  CHECK_FALSE(std::filesystem::exists(fixture.socket()));
}

TEST_CASE("Callers are identified on the pidfd_open fallback path too", "[e2e][pinning]") {
  AgentFixture fixture(kRootEntries);
  auto agent = fixture.Start({{"REATTEST_PIDFD_SOURCE", "pidfd_open"}});
  REQUIRE(agent->ready());

  X509Stream stream(fixture.socket());
  std::optional<X509SVIDResponse> response = stream.Next();
  REQUIRE(response);
  CHECK(response->svids(0).spiffe_id() == "spiffe://example.org/root");
}

TEST_CASE("The socket is created world-connectable and a second agent refuses it",
          "[e2e][socket]") {
  AgentFixture fixture(kRootEntries);
  auto agent = fixture.Start();
  REQUIRE(agent->ready());

  struct stat socket_stat {};
  REQUIRE(stat(fixture.socket().c_str(), &socket_stat) == 0);
  CHECK((socket_stat.st_mode & 0777) == 0666);

  std::string output;
  CHECK(RunReattest({"run", "--config", fixture.config()}, &output) == 1);
  CHECK(output.find("another agent is already serving") != std::string::npos);
  CHECK(SocketAccepts(fixture.socket()));
}

TEST_CASE("A stale socket file left by a crashed agent is replaced", "[e2e][socket]") {
  AgentFixture fixture(kRootEntries);
  {
    auto crashed = fixture.Start();
    REQUIRE(crashed->ready());
  }  // SIGKILL leaves the socket file behind
  REQUIRE(std::filesystem::exists(fixture.socket()));
  auto agent = fixture.Start();
  CHECK(agent->ready());
}

TEST_CASE("api fetch x509 --write writes the SVID, key and bundle as PEM", "[e2e][cli]") {
  AgentFixture fixture(kRootEntries);
  auto agent = fixture.Start();
  REQUIRE(agent->ready());

  std::string output;
  int status = RunReattest(
      {"api", "fetch", "x509", "--socket", fixture.socket(), "--write", fixture.dir().path()},
      &output);
  INFO(output);
  REQUIRE(status == 0);
  CHECK(output.find("SPIFFE ID:\t\tspiffe://example.org/root") != std::string::npos);
  for (const char* name : {"svid.0.pem", "svid.0.key", "bundle.0.pem"}) {
    INFO(name);
    CHECK(std::filesystem::file_size(fixture.dir() / name) > 100);
  }
  struct stat key_stat {};
  REQUIRE(stat((fixture.dir() / "svid.0.key").c_str(), &key_stat) == 0);
  CHECK((key_stat.st_mode & 0777) == 0600);
}

TEST_CASE("config check names file, line and key of every error", "[e2e][cli]") {
  TempDir dir;
  std::string config = dir.Write("bad.yaml",
                                 "trust_domain: example.org\n"
                                 "reattestation:\n"
                                 "  initial_backoff: soon\n"
                                 "bogus: 1\n");
  std::string output;
  CHECK(RunReattest({"config", "check", "--config", config}, &output) == 1);
  CHECK(output.find(config + ":3: reattestation.initial_backoff:") != std::string::npos);
  CHECK(output.find(config + ":4: bogus:") != std::string::npos);
}

TEST_CASE("config check rejects an entries file the agent would reject, naming its line",
          "[e2e][cli]") {
  TempDir dir;
  std::string entries = dir.Write("entries.yaml",
                                  "entries:\n"
                                  "  - spiffe_id: spiffe://other.org/web\n"
                                  "    selectors: [unix:uid:0]\n");
  std::string config = dir.Write("config.yaml",
                                 "trust_domain: example.org\n"
                                 "identity: {local: {entries_file: entries.yaml}}\n");
  std::string output;
  CHECK(RunReattest({"config", "check", "--config", config}, &output) == 1);
  CHECK(output.find(entries + ":2: entries[0].spiffe_id:") != std::string::npos);
}

TEST_CASE("config check accepts a valid file and prints ok", "[e2e][cli]") {
  AgentFixture fixture(kRootEntries);
  std::string output;
  CHECK(RunReattest({"config", "check", "--config", fixture.config()}, &output) == 0);
  CHECK(output == "ok\n");
}

}  // namespace
}  // namespace reattest::testing
