// The reason reattest exists (SPEC sections 1-3), end to end on a real Docker
// Engine: a container's process connects while the daemon is down, is served
// what can be attested, and receives its full identity set on the same stream
// once the daemon is back. Runs the built agent binary and `reattest api
// watch` inside the container's cgroups.
#include <signal.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "tests/support/agent_fixture.h"
#include "tests/support/cgroups.h"
#include "tests/support/docker_daemon.h"
#include "tests/support/ports.h"
#include "tests/support/scrape.h"
#include "tests/support/status_check.h"
#include "tests/support/wait.h"
#include "tests/support/watch_process.h"
#include "tests/support/workload_client.h"

namespace reattest::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

const std::string kHost = "spiffe://example.org/host";
const std::string kWeb = "spiffe://example.org/web";
const std::string kHostAndWeb =
    "entries:\n"
    "  - spiffe_id: " +
    kHost +
    "\n"
    "    selectors: [unix:uid:0]\n"
    "  - spiffe_id: " +
    kWeb +
    "\n"
    "    selectors: [unix:uid:0, docker:label:app:web]\n";

// A private Docker Engine with one labelled container, and an agent whose
// docker attestor talks to it.
class DockerNode {
 public:
  DockerNode(const std::string& entries, const std::string& reattestation) {
    absl::StatusOr<std::unique_ptr<DockerDaemon>> daemon = DockerDaemon::Start();
    if (!daemon.ok()) {
      FAIL("cannot start dockerd: " << daemon.status().message());
    }
    daemon_ = *std::move(daemon);
    REQUIRE(daemon_->ImportBusybox("reattest-busybox").ok());
    absl::StatusOr<DockerDaemon::Container> container = daemon_->Run(
        {"--label", "app=web", "-e", "SECRET=hunter2", "reattest-busybox", "sleep", "3600"});
    REQUIRE(container.ok());
    container_ = *container;
    config_ = Config(reattestation);
    fixture_ = std::make_unique<AgentFixture>(entries, config_);
  }

  std::string Config(const std::string& reattestation) const {
    return "metrics: {listen: 127.0.0.1:" + std::to_string(metrics_port_) + "}\n" +
           "health: {listen: 127.0.0.1:" + std::to_string(health_port_) + "}\n" +
           "attestors:\n  unix: {}\n  docker: {socket_path: " + daemon_->socket_path() +
           ", timeout: 1s}\n" + reattestation;
  }

  DockerDaemon& daemon() { return *daemon_; }
  AgentFixture& fixture() { return *fixture_; }
  const DockerDaemon::Container& container() const { return container_; }

  // `reattest api watch` from inside the container's cgroups.
  std::unique_ptr<WatchProcess> WatchFromContainer() {
    return std::make_unique<WatchProcess>(fixture_->socket(), CgroupProcsFilesOf(container_.pid));
  }

  // The same, from the pure-JavaScript client that shares no code with reattest.
  std::unique_ptr<WatchProcess> JsWatchFromContainer() {
    return std::make_unique<WatchProcess>(
        std::vector<std::string>{REATTEST_NODE, REATTEST_INTEROP_DIR "/watch_x509.mjs",
                                 fixture_->socket()},
        CgroupProcsFilesOf(container_.pid));
  }

  std::string DebugWorkloads() { return GetLoopback(health_port_, "/debug/workloads"); }
  double Series(const std::string& series) { return ScrapeSeries(metrics_port_, series); }

 private:
  int metrics_port_ = FreeLoopbackPort();
  int health_port_ = FreeLoopbackPort();
  std::unique_ptr<DockerDaemon> daemon_;
  DockerDaemon::Container container_;
  std::string config_;
  std::unique_ptr<AgentFixture> fixture_;
};

// Fast retries so a test waits at most a second per retry.
const std::string kFastRetries =
    "reattestation: {initial_backoff: 200ms, max_backoff: 1s, jitter: 0, periodic_interval: 0}\n";

// The daemon outage, two ways: SIGKILL leaves the socket (connection
// refused), SIGTERM removes it (socket missing).
void TakeDaemonDown(DockerDaemon& daemon, bool kill) {
  REQUIRE_OK(kill ? daemon.Kill() : daemon.Stop());
}

TEST_CASE(
    "A container that connects while the Docker daemon is down gets its full set pushed "
    "on the same stream when the daemon returns",
    "[docker]") {
  bool kill = GENERATE(true, false);
  INFO((kill ? "SIGKILL: connection refused" : "SIGTERM: socket missing"));
  DockerNode node(kHostAndWeb, kFastRetries);
  auto agent = node.fixture().Start();
  REQUIRE(agent->ready());
  TakeDaemonDown(node.daemon(), kill);

  auto watch = node.WatchFromContainer();
  REQUIRE(watch->WaitFor("update 1", milliseconds(5000)));
  CHECK(watch->output().find(kHost) != std::string::npos);
  CHECK(watch->output().find(kWeb) == std::string::npos);
  CHECK(WaitFor([&] { return node.Series("reattest_stuck_streams{api=\"x509_svid\"}") == 1; }));

  REQUIRE_OK(node.daemon().Restart());
  auto back = steady_clock::now();
  REQUIRE(watch->WaitFor("+ " + kWeb, milliseconds(5000)));
  // One retry delay (at most max_backoff, 1 s) plus the lookup.
  CHECK(steady_clock::now() - back < milliseconds(1500));
  CHECK(watch->updates() == 2);  // the same stream, one push
  CHECK(WaitFor([&] { return node.Series("reattest_stuck_streams{api=\"x509_svid\"}") == 0; }));
  CHECK(node.Series("reattest_recoveries_total") >= 1);
}

TEST_CASE(
    "An independent JavaScript client in the container sees its partial set, then the full "
    "set on the same stream",
    "[docker][interop]") {
  DockerNode node(kHostAndWeb, kFastRetries);
  auto agent = node.fixture().Start();
  REQUIRE(agent->ready());
  TakeDaemonDown(node.daemon(), /*kill=*/true);

  auto watch = node.JsWatchFromContainer();
  REQUIRE(watch->WaitFor("update 1", milliseconds(10000)));
  CHECK(watch->WaitFor("+ " + kHost, milliseconds(1000)));
  CHECK(watch->output().find(kWeb) == std::string::npos);

  REQUIRE_OK(node.daemon().Restart());
  INFO(watch->output());
  REQUIRE(watch->WaitFor("+ " + kWeb, milliseconds(5000)));
  CHECK(watch->updates() == 2);
  CHECK(watch->output().find("bad svid") == std::string::npos);
  CHECK(watch->output().find("stream ended") == std::string::npos);
}

TEST_CASE("A plain host process attests complete with unix selectors and no retries", "[docker]") {
  DockerNode node(kHostAndWeb, kFastRetries);
  auto agent = node.fixture().Start();
  REQUIRE(agent->ready());

  X509Stream stream(node.fixture().socket());
  std::optional<X509SVIDResponse> response = stream.Next();
  REQUIRE(response);
  REQUIRE(response->svids_size() == 1);
  CHECK(response->svids(0).spiffe_id() == kHost);
  CHECK(WaitFor([&] { return node.Series("reattest_workloads{state=\"complete\"}") == 1; }));
  CHECK(node.Series("reattest_reattestations_total{reason=\"retry\"}") == 0);
  CHECK(node.Series(
            "reattest_attestations_total{attestor=\"docker\",outcome=\"not_applicable\"}") >= 1);
}

TEST_CASE("A container whose only entry needs docker selectors is held, then served", "[docker]") {
  DockerNode node("entries:\n  - spiffe_id: " + kWeb + "\n    selectors: [docker:label:app:web]\n",
                  kFastRetries);
  auto agent = node.fixture().Start();
  REQUIRE(agent->ready());
  TakeDaemonDown(node.daemon(), /*kill=*/true);

  auto watch = node.WatchFromContainer();
  // Held: nothing is sent while the only identity depends on the daemon.
  CHECK_FALSE(watch->WaitFor("update", milliseconds(1500)));
  REQUIRE_OK(node.daemon().Restart());
  REQUIRE(watch->WaitFor("+ " + kWeb, milliseconds(5000)));
  CHECK(watch->updates() == 1);
}

TEST_CASE(
    "A complete container whose daemon dies keeps its full set through periodic "
    "re-attestation and counts as degraded",
    "[docker]") {
  DockerNode node(kHostAndWeb,
                  "reattestation: {initial_backoff: 200ms, max_backoff: 1s, jitter: 0, "
                  "periodic_interval: 300ms}\n");
  auto agent = node.fixture().Start();
  REQUIRE(agent->ready());
  auto watch = node.WatchFromContainer();
  REQUIRE(watch->WaitFor("+ " + kWeb, milliseconds(5000)));

  REQUIRE_OK(node.daemon().Kill());
  REQUIRE(WaitFor([&] { return node.Series("reattest_workloads{state=\"degraded\"}") == 1; }));
  CHECK(node.Series("reattest_stuck_streams{api=\"x509_svid\"}") == 1);
  double transient_before =
      node.Series("reattest_attestations_total{attestor=\"docker\",outcome=\"transient_error\"}");
  double oldest_before = node.Series("reattest_oldest_degraded_seconds");
  CHECK(WaitFor([&] {
    return node.Series("reattest_oldest_degraded_seconds") > oldest_before &&
           node.Series(
               "reattest_attestations_total{attestor=\"docker\",outcome=\"transient_"
               "error\"}") > transient_before;
  }));
  // The debug view shows the degraded workload, its container and next retry.
  std::string view = node.DebugWorkloads();
  CHECK(view.find("\"state\": \"degraded\"") != std::string::npos);
  CHECK(view.find(node.container().id) != std::string::npos);
  CHECK(view.find("\"next_attestation_ms\": null") == std::string::npos);
  CHECK(view.find("hunter2") == std::string::npos);  // docker:env values never shown
  // The identity never shrank: no message was sent.
  CHECK(watch->updates() == 1);

  REQUIRE_OK(node.daemon().Restart());
  CHECK(WaitFor([&] { return node.Series("reattest_workloads{state=\"degraded\"}") == 0; }));
  CHECK(node.Series("reattest_stuck_streams{api=\"x509_svid\"}") == 0);
  CHECK(node.Series("reattest_oldest_degraded_seconds") == 0);
  CHECK(node.Series("reattest_recoveries_total") >= 1);
  CHECK(node.Series("reattest_recovery_duration_seconds_count") >= 1);
  CHECK(watch->updates() == 1);
}

TEST_CASE(
    "An SDS client in a container gets default and ROOTCA at once while the daemon is down, "
    "and the docker-derived SVID on the same stream when it returns",
    "[docker][sds]") {
  // Our C++ client, and the pure-JavaScript one that shares no code with reattest.
  std::vector<std::string> client =
      GENERATE(std::vector<std::string>{SDS_WATCH_BINARY},
               std::vector<std::string>{REATTEST_NODE, REATTEST_INTEROP_DIR "/watch_sds.mjs"});
  INFO(client.back());
  DockerNode node(kHostAndWeb, kFastRetries);
  auto agent = node.fixture().Start();
  REQUIRE(agent->ready());
  TakeDaemonDown(node.daemon(), /*kill=*/true);

  client.insert(client.end(), {node.fixture().socket(), "default", "ROOTCA", kWeb});
  WatchProcess sds(client, CgroupProcsFilesOf(node.container().pid));
  REQUIRE(sds.WaitFor("update 1", milliseconds(5000)));
  CHECK(sds.output().find("+ default\n+ ROOTCA\nupdate 1") != std::string::npos);
  CHECK(WaitFor([&] { return node.Series("reattest_stuck_streams{api=\"sds\"}") == 1; }));

  REQUIRE_OK(node.daemon().Restart());
  REQUIRE(sds.WaitFor("+ " + kWeb, milliseconds(5000)));
  CHECK(sds.output().find("+ default\n+ ROOTCA\n+ " + kWeb + "\nupdate 2") != std::string::npos);
  CHECK(sds.updates() == 2);  // the same stream, one push
  CHECK(WaitFor([&] { return node.Series("reattest_stuck_streams{api=\"sds\"}") == 0; }));
}

TEST_CASE("SIGHUP with a shorter schedule re-arms a pending retry", "[docker]") {
  DockerNode node(kHostAndWeb,
                  "reattestation: {initial_backoff: 30s, max_backoff: 30s, jitter: 0, "
                  "periodic_interval: 0}\n");
  auto agent = node.fixture().Start();
  REQUIRE(agent->ready());
  REQUIRE_OK(node.daemon().Kill());
  auto watch = node.WatchFromContainer();
  REQUIRE(watch->WaitFor("update 1", milliseconds(5000)));

  std::ofstream(node.fixture().config()) << "trust_domain: example.org\n"
                                         << "socket_path: " << node.fixture().socket() << "\n"
                                         << "data_dir: data\n"
                                         << "identity: {local: {entries_file: entries.yaml}}\n"
                                         << node.Config(kFastRetries);
  agent->Signal(SIGHUP);
  REQUIRE(
      WaitFor([&] { return node.Series("reattest_config_reloads_total{result=\"ok\"}") == 1; }));
  REQUIRE_OK(node.daemon().Restart());
  // Well before the 30 s the original schedule had armed.
  CHECK(watch->WaitFor("+ " + kWeb, milliseconds(5000)));
}

}  // namespace
}  // namespace reattest::testing
