// The k8s attestor end to end (SPEC sections 2-3): the built agent, a fake
// kubelet over HTTPS, and `reattest api watch` processes inside a hand-made
// kubepods cgroup (cgroupfs driver layout, every v1 hierarchy and v2), whose
// container the fake kubelet lists, late, after a 503, or not at all.
#include <algorithm>
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

struct NodeSettings {
  std::string entries = kHostAndWeb;
  // Empty: the file holding the token the kubelet wants.
  std::string token_path;
  std::string kubelet_min_interval = "100ms";
  // The kubelet's systemd cgroup driver (slices and a containerd scope)
  // rather than its cgroupfs driver (plain directories).
  bool systemd_layout = false;
};

// The cgroup path a kubelet makes for a BestEffort pod's container.
std::string ContainerCgroup(const FakePod& pod, const std::string& container_id, bool systemd) {
  if (!systemd) {
    return Concat("/kubepods/besteffort/pod", pod.uid, "/", container_id);
  }
  std::string uid = pod.uid;
  std::replace(uid.begin(), uid.end(), '-', '_');
  return Concat("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod", uid,
                ".slice/cri-containerd-", container_id, ".scope");
}

// A node: a fake kubelet, one container's cgroup under kubepods, and an agent
// whose k8s attestor asks the kubelet.
class K8sNode {
 public:
  explicit K8sNode(const NodeSettings& settings = {}) {
    absl::StatusOr<std::unique_ptr<FakeKubelet>> kubelet = FakeKubelet::Start();
    REQUIRE_OK(kubelet.status());
    kubelet_ = *std::move(kubelet);
    pod_.uid = Concat(RandomHex(8), "-", RandomHex(4), "-4", RandomHex(3), "-8", RandomHex(3), "-",
                      RandomHex(12));
    std::string container_id = RandomHex(64);
    pod_.containers = {{"app", "registry.example/web:1.2", "", "containerd://" + container_id, ""}};
    cgroup_ = std::make_unique<HandMadeCgroup>(
        ContainerCgroup(pod_, container_id, settings.systemd_layout));
    REQUIRE(cgroup_->ok());
    std::string token_path =
        settings.token_path.empty() ? kubelet_->token_path() : settings.token_path;
    fixture_ = std::make_unique<AgentFixture>(
        settings.entries,
        Concat("metrics: {listen: 127.0.0.1:", metrics_port_, "}\n", "attestors:\n  unix: {}\n",
               "  k8s: {kubelet_url: \"", kubelet_->url(), "\", token_path: ", token_path,
               ", ca_path: ", kubelet_->ca_path(), ", timeout: 1s, kubelet_min_interval: ",
               settings.kubelet_min_interval, "}\n", kFastRetries));
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
  // Declared before the watches of a test, so it outlives them: a cgroup
  // with processes inside cannot be removed.
  std::unique_ptr<HandMadeCgroup> cgroup_;
  std::unique_ptr<AgentFixture> fixture_;
};

TEST_CASE(
    "A pod the kubelet lists late gets its unix set first, then its k8s identity pushed on the "
    "same stream",
    "[k8s]") {
  bool systemd = GENERATE(false, true);
  INFO((systemd ? "systemd cgroup driver" : "cgroupfs cgroup driver"));
  NodeSettings settings;
  settings.systemd_layout = systemd;
  K8sNode node(settings);
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

TEST_CASE("A pod whose only entry needs k8s selectors is held until the kubelet lists it",
          "[k8s]") {
  NodeSettings settings;
  settings.entries = "entries:\n  - spiffe_id: " + kWeb +
                     "\n    selectors: [k8s:ns:prod, k8s:sa:web, k8s:container-name:app]\n";
  K8sNode node(settings);
  auto agent = node.fixture().Start();
  REQUIRE(agent->ready());

  auto watch = node.WatchFromPod();
  // Held: nothing is sent while the only identity depends on the kubelet.
  REQUIRE(WaitFor([&] { return node.Series(kTransient) >= 1; }));
  CHECK(watch->updates() == 0);
  node.kubelet().ListPods({node.pod()});
  REQUIRE(watch->WaitFor("+ " + kWeb, milliseconds(5000)));
  CHECK(watch->updates() == 1);
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

TEST_CASE("A kubelet that stops answering is given up on after the timeout, and recovered from",
          "[k8s]") {
  K8sNode node;
  node.kubelet().Hang();
  auto agent = node.fixture().Start();
  REQUIRE(agent->ready());

  auto watch = node.WatchFromPod();
  // Served its unix set once the lookup is abandoned (timeout: 1s).
  REQUIRE(watch->WaitFor("update 1", milliseconds(5000)));
  CHECK(watch->output().find(kWeb) == std::string::npos);
  CHECK(node.Series(kTransient) >= 1);

  node.kubelet().ListPods({node.pod()});
  REQUIRE(watch->WaitFor("+ " + kWeb, milliseconds(5000)));
  CHECK(watch->updates() == 2);
}

TEST_CASE("A wrong kubelet token is a transient error, counted, and retried", "[k8s]") {
  TempDir dir;
  NodeSettings settings;
  settings.token_path = dir.Write("token", "not-the-token\n");
  K8sNode node(settings);
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
  NodeSettings settings;
  settings.kubelet_min_interval = "300ms";
  K8sNode node(settings);
  node.kubelet().Answer503();
  // Every request the kubelet counts starts after this, so at most one per
  // interval since.
  auto start = steady_clock::now();
  auto agent = node.fixture().Start();
  REQUIRE(agent->ready());

  std::vector<std::unique_ptr<WatchProcess>> watches;
  for (int i = 0; i < kWorkloads; ++i) {
    watches.push_back(node.WatchFromPod());
  }
  REQUIRE(
      WaitFor([&] { return node.Series("reattest_workloads{state=\"degraded\"}") == kWorkloads; },
              milliseconds(30000)));
  // Every workload now retries on its own schedule: let each fail a few more times.
  double transient_before = node.Series(kTransient);
  REQUIRE(WaitFor([&] { return node.Series(kTransient) >= transient_before + 3 * kWorkloads; },
                  milliseconds(30000)));
  // All recover together once the kubelet answers.
  node.kubelet().ListPods({node.pod()});
  CHECK(WaitFor([&] { return node.Series("reattest_workloads{state=\"degraded\"}") == 0; },
                milliseconds(10000)));

  int requests = node.kubelet().requests();
  auto elapsed = steady_clock::now() - start;
  int allowed = static_cast<int>(elapsed / kInterval) + 1;
  std::cout << "k8s agent storm: " << kWorkloads << " workloads, " << node.Series(kTransient)
            << " transient attestations in "
            << std::chrono::duration_cast<milliseconds>(elapsed).count() << "ms, " << requests
            << " /pods requests (at most " << allowed << " allowed)" << std::endl;
  CHECK(requests <= allowed);
  CHECK(node.Series("reattest_workloads{state=\"complete\"}") >= kWorkloads);
}

}  // namespace
}  // namespace reattest::testing
