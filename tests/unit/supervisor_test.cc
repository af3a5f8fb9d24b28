// The supervisor's contract (SPEC section 3 and the waiting rule of section
// 4) on a real loop with scripted attestors.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "tests/unit/child_process.h"
#include "tests/unit/supervisor_harness.h"

namespace reattest::testing {
namespace {

using std::chrono::milliseconds;
using supervisor::WorkloadState;

// Two attestors the way a docker node has them: `unix` on the /proc pool,
// `docker` on the network pool.
struct Node {
  ScriptedAttestor* unix_attestor;
  ScriptedAttestor* docker;
  std::vector<std::unique_ptr<attestors::Attestor>> owned;

  Node() {
    auto unix_owned = std::make_unique<ScriptedAttestor>("unix", attestors::WorkKind::kProc);
    auto docker_owned = std::make_unique<ScriptedAttestor>("docker", attestors::WorkKind::kNetwork);
    unix_attestor = unix_owned.get();
    docker = docker_owned.get();
    unix_attestor->SetFallback(Ok({"unix:uid:0"}));
    docker->SetFallback(Ok({"docker:label:app:web"}));
    owned.push_back(std::move(unix_owned));
    owned.push_back(std::move(docker_owned));
  }
};

supervisor::SupervisorOptions FastOptions() {
  supervisor::SupervisorOptions options;
  options.reattestation.initial_backoff = milliseconds(50);
  options.reattestation.max_backoff = milliseconds(200);
  options.reattestation.jitter = 0;
  options.reattestation.periodic_interval = Duration::zero();
  options.reattestation.hold_timeout = std::chrono::seconds(5);
  options.random = [] { return 0.5; };
  return options;
}

const auto kWebEntries =
    Snapshot({{"/host", {"unix:uid:0"}}, {"/web", {"unix:uid:0", "docker:label:app:web"}}});
const std::vector<std::string> kHostOnly = {"spiffe://example.org/host"};
const std::vector<std::string> kFullSet = {"spiffe://example.org/host", "spiffe://example.org/web"};

TEST_CASE("A workload whose attestors all succeed is complete and served at once", "[supervisor]") {
  RecordingSink sink;
  Node node;
  SupervisorHarness harness(std::move(node.owned), FastOptions());
  harness.SetIdentity(kWebEntries);

  harness.Attach(sink, getpid());
  REQUIRE(sink.WaitDeliveries(1));
  CHECK(sink.deliveries()[0] == kFullSet);
  CHECK(harness.View(getpid())->state == WorkloadState::kComplete);
  CHECK(node.docker->calls() == 1);
}

TEST_CASE("A transient error serves the partial set, then pushes the full set after a retry",
          "[supervisor]") {
  RecordingSink sink;
  Node node;
  node.docker->Queue(Failed(Outcome::kTransientError));
  SupervisorHarness harness(std::move(node.owned), FastOptions());
  harness.SetIdentity(kWebEntries);

  harness.Attach(sink, getpid());
  REQUIRE(sink.WaitDeliveries(2));
  CHECK(sink.deliveries()[0] == kHostOnly);
  CHECK(sink.deliveries()[1] == kFullSet);
  CHECK(node.docker->calls() == 2);
  CHECK(harness.View(getpid())->state == WorkloadState::kComplete);
  CHECK(harness.View(getpid())->failures == 0);
}

TEST_CASE("A call whose only entry needs the failing attestor is held, then served",
          "[supervisor]") {
  RecordingSink sink;
  Node node;
  node.docker->Queue(Failed(Outcome::kTransientError));
  node.docker->Queue(Failed(Outcome::kTransientError));
  SupervisorHarness harness(std::move(node.owned), FastOptions());
  harness.SetIdentity(Snapshot({{"/web", {"docker:label:app:web"}}}));

  harness.Attach(sink, getpid());
  REQUIRE(sink.WaitDeliveries(1));
  CHECK(sink.deliveries() == std::vector<std::vector<std::string>>{{"spiffe://example.org/web"}});
  CHECK_FALSE(sink.WaitEnded(milliseconds(0)));
  CHECK(node.docker->calls() == 3);
}

TEST_CASE("A held call ends when hold_timeout passes", "[supervisor]") {
  RecordingSink sink;
  Node node;
  node.docker->SetFallback(Failed(Outcome::kTransientError));
  supervisor::SupervisorOptions options = FastOptions();
  options.reattestation.hold_timeout = milliseconds(200);
  auto entries = Snapshot({{"/web", {"docker:label:app:web"}}});

  SECTION("with PermissionDenied when another attestor succeeded") {
    SupervisorHarness harness(std::move(node.owned), options);
    harness.SetIdentity(entries);
    harness.Attach(sink, getpid());
    std::optional<absl::Status> ended = sink.WaitEnded();
    REQUIRE(ended);
    CHECK(ended->code() == absl::StatusCode::kPermissionDenied);
    CHECK(ended->message() == "no identity issued");
  }
  SECTION("with Unavailable when every attestor failed") {
    node.unix_attestor->SetFallback(Failed(Outcome::kSoftError));
    SupervisorHarness harness(std::move(node.owned), options);
    harness.SetIdentity(entries);
    harness.Attach(sink, getpid());
    std::optional<absl::Status> ended = sink.WaitEnded();
    REQUIRE(ended);
    CHECK(ended->code() == absl::StatusCode::kUnavailable);
    CHECK(ended->message() == "workload attestation failed");
  }
  CHECK(sink.deliveries().empty());
}

TEST_CASE("A complete workload without an identity is refused at once", "[supervisor]") {
  RecordingSink sink;
  Node node;
  SupervisorHarness harness(std::move(node.owned), FastOptions());
  harness.SetIdentity(Snapshot({{"/other", {"unix:uid:4242"}}}));

  harness.Attach(sink, getpid());
  std::optional<absl::Status> ended = sink.WaitEnded();
  REQUIRE(ended);
  CHECK(ended->code() == absl::StatusCode::kPermissionDenied);
}

TEST_CASE("A failed re-attestation keeps the last good selectors and sends nothing",
          "[supervisor]") {
  RecordingSink sink;
  Node node;
  supervisor::SupervisorOptions options = FastOptions();
  options.reattestation.periodic_interval = milliseconds(50);
  options.reattestation.initial_backoff = std::chrono::seconds(30);
  options.reattestation.max_backoff = std::chrono::seconds(30);
  node.docker->Queue(Ok({"docker:label:app:web"}));
  node.docker->SetFallback(Failed(Outcome::kTransientError));
  SupervisorHarness harness(std::move(node.owned), options);
  harness.SetIdentity(kWebEntries);

  harness.Attach(sink, getpid());
  REQUIRE(sink.WaitDeliveries(1));
  // The periodic re-attestation fails: degraded, yet the identity stays.
  REQUIRE(WaitFor([&] { return harness.View(getpid())->state == WorkloadState::kDegraded; }));
  supervisor::WorkloadView view = *harness.View(getpid());
  CHECK(view.selectors.contains("docker:label:app:web"));
  CHECK(view.spiffe_ids == kFullSet);
  CHECK(sink.deliveries().size() == 1);
}

TEST_CASE("After max_attempts retries the workload waits for the periodic interval",
          "[supervisor]") {
  RecordingSink sink;
  Node node;
  node.docker->SetFallback(Failed(Outcome::kTransientError));
  supervisor::SupervisorOptions options = FastOptions();
  options.reattestation.initial_backoff = milliseconds(10);
  options.reattestation.max_attempts = 2;
  options.reattestation.periodic_interval = std::chrono::seconds(60);
  SupervisorHarness harness(std::move(node.owned), options);
  harness.SetIdentity(kWebEntries);

  harness.Attach(sink, getpid());
  // The first attestation and exactly two retries.
  REQUIRE(WaitFor([&] { return node.docker->calls() == 3; }));
  REQUIRE(WaitFor([&] { return harness.View(getpid())->failures == 3; }));
  supervisor::WorkloadView view = *harness.View(getpid());
  REQUIRE(view.next_attestation_in);
  CHECK(*view.next_attestation_in > std::chrono::seconds(50));
  CHECK(view.state == WorkloadState::kDegraded);
}

TEST_CASE("A lookup that succeeds again re-attests the attestor's other degraded workloads at once",
          "[supervisor]") {
  RecordingSink first_sink;
  RecordingSink second_sink;
  Node node;
  node.docker->Queue(Failed(Outcome::kTransientError));
  node.docker->Queue(Failed(Outcome::kTransientError));
  supervisor::SupervisorOptions options = FastOptions();
  options.reattestation.initial_backoff = milliseconds(500);
  options.reattestation.jitter = 0.9;
  // The first workload's retry comes after 50 ms, the second's after 950 ms.
  auto draws = std::make_shared<std::deque<double>>(std::deque<double>{0.0, 1.0});
  options.random = [draws] {
    double draw = draws->empty() ? 0.5 : draws->front();
    if (!draws->empty()) {
      draws->pop_front();
    }
    return draw;
  };
  auto child = ChildProcess::Block([] { return true; });
  REQUIRE(child->ready());
  SupervisorHarness harness(std::move(node.owned), options);
  harness.SetIdentity(kWebEntries);

  harness.Attach(first_sink, getpid());
  REQUIRE(first_sink.WaitDeliveries(1));
  harness.Attach(second_sink, child->pid());
  REQUIRE(second_sink.WaitDeliveries(1));
  // The first workload's retry succeeds; the second follows well before its
  // own 950 ms timer.
  REQUIRE(first_sink.WaitDeliveries(2));
  CHECK(second_sink.WaitDeliveries(2, milliseconds(400)));
  CHECK(second_sink.deliveries().back() == kFullSet);
}

TEST_CASE("A recovered lookup does not ask again for workloads whose retry is already under way",
          "[supervisor]") {
  RecordingSink first_sink;
  RecordingSink second_sink;
  Node node;
  node.docker->Queue(Failed(Outcome::kTransientError));
  node.docker->Queue(Failed(Outcome::kTransientError));
  // Both retries run at once: the second starts while the first is in flight.
  node.docker->SetDelay(milliseconds(100));
  auto child = ChildProcess::Block([] { return true; });
  REQUIRE(child->ready());
  SupervisorHarness harness(std::move(node.owned), FastOptions());
  harness.SetIdentity(kWebEntries);

  harness.Attach(first_sink, getpid());
  harness.Attach(second_sink, child->pid());
  REQUIRE(first_sink.WaitDeliveries(2));
  REQUIRE(second_sink.WaitDeliveries(2));
  // Two failed lookups and two retries; the recovery of the first retry
  // must not queue a third round for the second workload.
  CHECK_FALSE(WaitFor([&] { return node.docker->calls() > 4; }, milliseconds(300)));
  CHECK(node.docker->calls() == 4);
}

TEST_CASE("Concurrent streams of one process share one attestation", "[supervisor]") {
  std::vector<std::unique_ptr<RecordingSink>> sinks;
  Node node;
  node.unix_attestor->SetDelay(milliseconds(100));
  SupervisorHarness harness(std::move(node.owned), FastOptions());
  harness.SetIdentity(kWebEntries);

  for (int i = 0; i < 5; ++i) {
    sinks.push_back(std::make_unique<RecordingSink>());
    harness.Attach(*sinks.back(), getpid());
  }
  for (auto& sink : sinks) {
    REQUIRE(sink->WaitDeliveries(1));
  }
  CHECK(node.unix_attestor->calls() == 1);
  CHECK(harness.View(getpid())->streams == 5);
}

TEST_CASE("A lookup slower than the attestor's timeout counts as a transient error",
          "[supervisor]") {
  RecordingSink sink;
  Node node;
  node.docker->SetTimeout(milliseconds(100));
  node.docker->SetDelay(milliseconds(400));
  supervisor::SupervisorOptions options = FastOptions();
  options.reattestation.initial_backoff = std::chrono::seconds(30);
  SupervisorHarness harness(std::move(node.owned), options);
  harness.SetIdentity(kWebEntries);

  auto started = std::chrono::steady_clock::now();
  harness.Attach(sink, getpid());
  REQUIRE(sink.WaitDeliveries(1));
  // Served the partial set at the deadline, not when the lookup returned.
  CHECK(std::chrono::steady_clock::now() - started < milliseconds(350));
  CHECK(sink.deliveries()[0] == kHostOnly);
  CHECK(harness.View(getpid())->state == WorkloadState::kDegraded);
}

TEST_CASE("The process exiting drops its workload and ends its streams", "[supervisor]") {
  RecordingSink sink;
  Node node;
  auto child = ChildProcess::Block([] { return true; });
  REQUIRE(child->ready());
  SupervisorHarness harness(std::move(node.owned), FastOptions());
  harness.SetIdentity(kWebEntries);

  harness.Attach(sink, child->pid());
  REQUIRE(sink.WaitDeliveries(1));
  child->KillAndReap();
  std::optional<absl::Status> ended = sink.WaitEnded();
  REQUIRE(ended);
  CHECK(ended->code() == absl::StatusCode::kUnauthenticated);
  CHECK(WaitFor([&] { return !harness.View(child->pid()); }));
}

TEST_CASE("A re-attestation that finds another process behind the PID is dropped", "[supervisor]") {
  // A fake proc_root lets the test change the start time the supervisor
  // reads, as if the PID had been reused.
  RecordingSink sink;
  Node node;
  char dir_template[] = "/tmp/rt-proc-XXXXXX";
  std::string proc_root = mkdtemp(dir_template);
  std::string pid_dir = proc_root + "/" + std::to_string(getpid());
  std::filesystem::create_directories(pid_dir);
  auto write_stat = [&](int start_time) {
    std::ofstream(pid_dir + "/stat")
        << getpid() << " (test) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 " << start_time << " 0 0\n";
  };
  write_stat(1000);
  std::ofstream(pid_dir + "/status") << "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n";
  supervisor::SupervisorOptions options = FastOptions();
  options.proc_root = proc_root;
  options.reattestation.periodic_interval = milliseconds(50);
  SupervisorHarness harness(std::move(node.owned), options);
  harness.SetIdentity(kWebEntries);

  harness.Attach(sink, getpid());
  REQUIRE(sink.WaitDeliveries(1));
  write_stat(2000);
  std::optional<absl::Status> ended = sink.WaitEnded();
  REQUIRE(ended);
  CHECK(ended->code() == absl::StatusCode::kUnauthenticated);
  CHECK(ended->message() == "could not verify existence of the original caller");
  std::filesystem::remove_all(proc_root);
}

TEST_CASE("A shorter schedule from SIGHUP re-arms a pending retry", "[supervisor]") {
  RecordingSink sink;
  Node node;
  node.docker->Queue(Failed(Outcome::kTransientError));
  supervisor::SupervisorOptions options = FastOptions();
  options.reattestation.initial_backoff = std::chrono::seconds(30);
  options.reattestation.max_backoff = std::chrono::seconds(30);
  supervisor::ReattestationConfig shorter = options.reattestation;
  shorter.initial_backoff = milliseconds(50);
  SupervisorHarness harness(std::move(node.owned), options);
  harness.SetIdentity(kWebEntries);

  harness.Attach(sink, getpid());
  REQUIRE(sink.WaitDeliveries(1));
  REQUIRE(harness.View(getpid())->next_attestation_in > std::chrono::seconds(20));
  harness.OnLoop([&] { harness.supervisor().SetReattestation(shorter); });
  CHECK(sink.WaitDeliveries(2, milliseconds(2000)));
  CHECK(sink.deliveries().back() == kFullSet);
}

TEST_CASE("A workload without streams is dropped after the idle period", "[supervisor]") {
  RecordingSink sink;
  Node node;
  supervisor::SupervisorOptions options = FastOptions();
  options.idle_drop_after = milliseconds(50);
  SupervisorHarness harness(std::move(node.owned), options);
  harness.SetIdentity(kWebEntries);

  harness.Attach(sink, getpid());
  REQUIRE(sink.WaitDeliveries(1));
  harness.OnLoop([&] { harness.supervisor().DetachStream(&sink); });
  CHECK(WaitFor([&] { return !harness.View(getpid()); }));
}

TEST_CASE("An entries change pushes the new set to open streams", "[supervisor]") {
  RecordingSink sink;
  Node node;
  SupervisorHarness harness(std::move(node.owned), FastOptions());
  harness.SetIdentity(Snapshot({{"/host", {"unix:uid:0"}}}));

  harness.Attach(sink, getpid());
  REQUIRE(sink.WaitDeliveries(1));
  harness.SetIdentity(kWebEntries);
  REQUIRE(sink.WaitDeliveries(2));
  CHECK(sink.deliveries()[1] == kFullSet);
}

}  // namespace
}  // namespace reattest::testing
