// The k8s attestor end to end (SPEC sections 2-3): the built agent, a fake
// kubelet over HTTPS, and `reattest api watch` processes inside a hand-made
// kubepods cgroup (cgroupfs driver layout, every v1 hierarchy and v2), whose
// container the fake kubelet lists, late, after a 503, or not at all.
#include <catch2/catch.hpp>
#include <iostream>
#include <random>

#include "common/strings.h"
#include "tests/support/agent_fixture.h"
#include "tests/support/cgroups.h"
#include "tests/support/fake_kubelet.h"
#include "tests/support/ports.h"
#include "tests/support/scrape.h"
#include "tests/support/status_check.h"
#include "tests/support/wait.h"
#include "tests/support/watch_process.h"

namespace reattest::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

const std::string kHost = "spiffe://example.org/host";
const std::string kWeb = "spiffe://example.org/web";
const std::string kHostAndWeb = "entries:\n  - spiffe_id: " + kHost +
                                "\n    selectors: [unix:uid:0]\n  - spiffe_id: " + kWeb +
                                "\n    selectors: [unix:uid:0, k8s:pod-label:app:web]\n";
const std::string kTransient =
    "reattest_attestations_total{attestor=\"k8s\",outcome=\"transient_error\"}";
// Fast retries so a test waits at most a second per retry.
const std::string kFastRetries =
    "reattestation: {initial_backoff: 200ms, max_backoff: 1s, jitter: 0, periodic_interval: 0}\n";

// Random hex, so each test's cgroup and pod are its own even after a crash.
std::string RandomHex(size_t digits) {
  static std::mt19937_64 random(std::random_device{}());
  std::string hex;
  while (hex.size() < digits) {
    hex += "0123456789abcdef"[random() % 16];
  }
  return hex;
}

// A node: a fake kubelet, one container's cgroup under kubepods, and an agent
// whose k8s attestor asks the kubelet.
class K8sNode {
 public:
  explicit K8sNode(const std::string& token_path = "", const std::string& interval = "100ms") {
    absl::StatusOr<std::unique_ptr<FakeKubelet>> kubelet = FakeKubelet::Start();
    REQUIRE_OK(kubelet.status());
    kubelet_ = *std::move(kubelet);
    pod_.uid = Concat(RandomHex(8), "-", RandomHex(4), "-4", RandomHex(3), "-8", RandomHex(3), "-",
                      RandomHex(12));
    container_id_ = RandomHex(64);
    pod_.containers = {
        {"app", "registry.example/web:1.2", "", "containerd://" + container_id_, ""}};
    cgroup_ = std::make_unique<HandMadeCgroup>(
        Concat("/kubepods/besteffort/pod", pod_.uid, "/", container_id_));
    REQUIRE(cgroup_->ok());
    fixture_ = std::make_unique<AgentFixture>(
        kHostAndWeb,
        Concat("metrics: {listen: 127.0.0.1:", metrics_port_, "}\n", "attestors:\n  unix: {}\n",
               "  k8s: {kubelet_url: \"", kubelet_->url(),
               "\", token_path: ", token_path.empty() ? kubelet_->token_path() : token_path,
               ", ca_path: ", kubelet_->ca_path(),
               ", timeout: 1s, kubelet_min_interval: ", interval, "}\n", kFastRetries));
  }

  FakeKubelet& kubelet() { return *kubelet_; }
  const FakePod& pod() const { return pod_; }
  AgentFixture& fixture() { return *fixture_; }
  double Series(const std::string& series) { return ScrapeSeries(metrics_port_, series); }

  // `reattest api watch` from inside the container's cgroup.
  std::unique_ptr<WatchProcess> WatchFromPod() {
    return std::make_unique<WatchProcess>(fixture_->socket(), cgroup_->procs_files());
  }

 private:
  int metrics_port_ = FreeLoopbackPort();
  std::unique_ptr<FakeKubelet> kubelet_;
  FakePod pod_;
  std::string container_id_;
  // Declared before the watches of a test, so it outlives them: a cgroup
  // with processes inside cannot be removed.
  std::unique_ptr<HandMadeCgroup> cgroup_;
  std::unique_ptr<AgentFixture> fixture_;
};

TEST_CASE(
    "A pod the kubelet lists late gets its unix set first, then its k8s identity pushed on the "
    "same stream",
    "[k8s]") {
  K8sNode node;
  auto agent = node.fixture().Start();
  REQUIRE(agent->ready());

  auto watch = node.WatchFromPod();
  REQUIRE(watch->WaitFor("update 1", milliseconds(5000)));
  CHECK(watch->output().find(kHost) != std::string::npos);
  CHECK(watch->output().find(kWeb) == std::string::npos);
  CHECK(WaitFor([&] { return node.Series(kTransient) >= 1; }));

  node.kubelet().ListPods({node.pod()});
  REQUIRE(watch->WaitFor("+ " + kWeb, milliseconds(5000)));
  CHECK(watch->updates() == 2);  // the same stream, one push
}

TEST_CASE("A kubelet answering 503 then 200 is recovered from within one retry delay", "[k8s]") {
  K8sNode node;
  node.kubelet().Answer503();
  auto agent = node.fixture().Start();
  REQUIRE(agent->ready());
  auto watch = node.WatchFromPod();
  REQUIRE(watch->WaitFor("update 1", milliseconds(5000)));
  CHECK(watch->output().find(kWeb) == std::string::npos);

  node.kubelet().ListPods({node.pod()});
  auto back = steady_clock::now();
  REQUIRE(watch->WaitFor("+ " + kWeb, milliseconds(5000)));
  // One retry delay (at most max_backoff, 1 s) plus the lookup.
  CHECK(steady_clock::now() - back < milliseconds(1500));
  CHECK(WaitFor([&] { return node.Series("reattest_recoveries_total") >= 1; }));
}

TEST_CASE("A wrong kubelet token is a transient error, counted, and retried", "[k8s]") {
  TempDir dir;
  K8sNode node(dir.Write("token", "not-the-token\n"));
  node.kubelet().ListPods({node.pod()});
  auto agent = node.fixture().Start();
  REQUIRE(agent->ready());

  auto watch = node.WatchFromPod();
  REQUIRE(watch->WaitFor("update 1", milliseconds(5000)));

  // Retried: more than one attempt met the 401.
  CHECK(WaitFor([&] { return node.Series(kTransient) >= 2; }));
  CHECK(node.kubelet().unauthorized() >= 2);
  CHECK(node.Series("reattest_workloads{state=\"degraded\"}") == 1);
  CHECK(watch->output().find(kWeb) == std::string::npos);
}

TEST_CASE(
    "Many workloads retrying through the agent cost the kubelet at most one /pods request per "
    "kubelet_min_interval",
    "[k8s]") {
  constexpr int kWorkloads = 200;
  constexpr auto kInterval = milliseconds(300);
  K8sNode node("", "300ms");
  node.kubelet().Answer503();
  auto agent = node.fixture().Start();
  REQUIRE(agent->ready());

  std::vector<std::unique_ptr<WatchProcess>> watches;
  for (int i = 0; i < kWorkloads; ++i) {
    watches.push_back(node.WatchFromPod());
  }
  REQUIRE(
      WaitFor([&] { return node.Series("reattest_workloads{state=\"degraded\"}") == kWorkloads; },
              milliseconds(30000)));
  // Every workload now retries on its own schedule; watch the kubelet for a while.
  int before = node.kubelet().requests();
  auto start = steady_clock::now();
  double transient_before = node.Series(kTransient);
  REQUIRE(WaitFor([&] { return node.Series(kTransient) >= transient_before + 3 * kWorkloads; },
                  milliseconds(30000)));
  auto elapsed = steady_clock::now() - start;

  int requests = node.kubelet().requests() - before;
  int allowed = static_cast<int>(elapsed / kInterval) + 1;
  std::cout << "k8s agent storm: " << kWorkloads << " workloads, "
            << node.Series(kTransient) - transient_before << " transient attestations in "
            << std::chrono::duration_cast<milliseconds>(elapsed).count() << "ms, " << requests
            << " /pods requests (at most " << allowed << " allowed)" << std::endl;
  CHECK(requests <= allowed);

  // All recover together once the kubelet answers, still one request at a time.
  node.kubelet().ListPods({node.pod()});
  CHECK(WaitFor([&] { return node.Series("reattest_workloads{state=\"degraded\"}") == 0; },
                milliseconds(10000)));
  CHECK(node.Series("reattest_workloads{state=\"complete\"}") >= kWorkloads);
}

}  // namespace
}  // namespace reattest::testing
