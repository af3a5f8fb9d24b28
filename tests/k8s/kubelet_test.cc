// The k8s attestor against a kubelet over real HTTPS (tests/support/
// fake_kubelet.h): token, certificate verification, failures, and the
// shared fetch under a storm of concurrent attestations. Processes are
// described by a fake procfs root; the agent-level tests use real cgroups.
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <iostream>
#include <thread>
#include <vector>

#include "attestors/k8s/k8s_attestor.h"
#include "common/process.h"
#include "tests/support/fake_kubelet.h"
#include "tests/support/start_ticks.h"
#include "tests/support/status_check.h"
#include "tests/support/temp_dir.h"

namespace reattest::testing {
namespace {

using attestors::AttestRequest;
using attestors::AttestResult;
using attestors::K8sAttestor;
using attestors::K8sOptions;
using namespace std::chrono_literals;
using std::chrono::steady_clock;

const std::string kId = "a33bd47fe111843f9f65dbebfa43a8ad44c6d89471cc4609bd09fd3cca5e5e71";
const std::string kPodUid = "2f3c1a9e-6b7d-4c1e-9a8b-1d2e3f4a5b6c";

FakePod WebPod() {
  FakePod pod;
  pod.uid = kPodUid;
  pod.containers = {{"app", "registry.example/web:1.2", "", "containerd://" + kId, ""}};
  return pod;
}

// A fake kubelet, and a fake procfs root where PIDs 1000... are processes
// of the web pod's container.
class Node {
 public:
  Node() {
    absl::StatusOr<std::unique_ptr<FakeKubelet>> kubelet = FakeKubelet::Start();
    REQUIRE_OK(kubelet.status());
    kubelet_ = *std::move(kubelet);
    options_.kubelet_url = kubelet_->url();
    options_.token_path = kubelet_->token_path();
    options_.ca_path = kubelet_->ca_path();
    options_.timeout = 1s;
    options_.kubelet_min_interval = 0s;
  }

  FakeKubelet& kubelet() { return *kubelet_; }
  K8sOptions& options() { return options_; }

  // Writes PROC_ROOT/PID/cgroup for a process of the web pod's container.
  void AddProcess(pid_t pid) {
    std::filesystem::create_directories(proc_ / std::to_string(pid));
    proc_.Write(std::to_string(pid) + "/cgroup",
                "0::/kubepods/besteffort/pod" + kPodUid + "/" + kId + "\n");
  }
  AttestRequest Request(pid_t pid) const {
    AttestRequest request;
    request.pid = pid;
    request.proc_root = proc_.path();
    request.start_time_ticks = start_ticks_;
    return request;
  }
  std::unique_ptr<K8sAttestor> Attestor() const {
    absl::StatusOr<std::unique_ptr<K8sAttestor>> attestor = K8sAttestor::Create(options_);
    REQUIRE_OK(attestor.status());
    return *std::move(attestor);
  }
  AttestResult AttestOnce() {
    AddProcess(1000);
    return Attestor()->Attest(Request(1000));
  }

 private:
  std::unique_ptr<FakeKubelet> kubelet_;
  K8sOptions options_;
  TempDir proc_;
  // Every process started with the node, before any fetch.
  const uint64_t start_ticks_ = NowTicks();
};

TEST_CASE(
    "A pod's process attests ok from an HTTPS kubelet with a bearer token and a verified "
    "certificate",
    "[k8s]") {
  Node node;
  node.kubelet().ListPods({WebPod()});

  AttestResult result = node.AttestOnce();

  INFO(result.reason);
  CHECK(result.outcome == Outcome::kOk);
  CHECK(result.selectors.count("k8s:pod-label:app:web") == 1);
  CHECK(result.selectors.count("k8s:container-image:registry.example/web:1.2") == 1);
  CHECK(node.kubelet().requests() == 1);
  CHECK(node.kubelet().unauthorized() == 0);
}

TEST_CASE("An http:// kubelet (the read-only port) is asked without a token", "[k8s]") {
  absl::StatusOr<std::unique_ptr<FakeKubelet>> plain = FakeKubelet::Start(/*tls=*/false);
  REQUIRE_OK(plain.status());
  (*plain)->ListPods({WebPod()});
  Node node;
  node.options().kubelet_url = (*plain)->url();

  AttestResult result = node.AttestOnce();

  INFO(result.reason);
  CHECK(result.outcome == Outcome::kOk);
  CHECK((*plain)->requests() == 1);
  CHECK((*plain)->last_authorization().empty());
}

TEST_CASE("A wrong bearer token is transient with the kubelet's 401 in the reason", "[k8s]") {
  Node node;
  node.kubelet().ListPods({WebPod()});
  TempDir dir;
  node.options().token_path = dir.Write("token", "not-the-token");

  AttestResult result = node.AttestOnce();

  CHECK(result.outcome == Outcome::kTransientError);
  CHECK_THAT(result.reason, Catch::Contains("HTTP 401"));
  CHECK(result.reason.find("not-the-token") == std::string::npos);  // never logged
  CHECK(node.kubelet().unauthorized() == 1);
}

TEST_CASE("A token file rewritten in place is used at the next fetch", "[k8s]") {
  Node node;
  node.kubelet().ListPods({WebPod()});
  TempDir dir;
  node.options().token_path = dir.Write("token", "old-token");
  node.AddProcess(1000);
  std::unique_ptr<K8sAttestor> attestor = node.Attestor();
  REQUIRE(attestor->Attest(node.Request(1000)).outcome == Outcome::kTransientError);

  dir.Write("token", node.kubelet().token());

  CHECK(attestor->Attest(node.Request(1000)).outcome == Outcome::kOk);
}

TEST_CASE(
    "A kubelet certificate that ca_path does not sign is transient unless verification is "
    "skipped",
    "[k8s]") {
  Node node;
  node.kubelet().ListPods({WebPod()});
  absl::StatusOr<std::unique_ptr<FakeKubelet>> stranger = FakeKubelet::Start();
  REQUIRE_OK(stranger.status());
  node.options().ca_path = (*stranger)->ca_path();

  SECTION("verified: transient") {
    AttestResult result = node.AttestOnce();
    CHECK(result.outcome == Outcome::kTransientError);
    CHECK_THAT(result.reason, Catch::Contains("certificate"));
  }
  SECTION("skip_kubelet_verification: ok") {
    node.options().skip_kubelet_verification = true;
    CHECK(node.AttestOnce().outcome == Outcome::kOk);
  }
}

TEST_CASE("A kubelet answering 503 or not at all is transient", "[k8s]") {
  Node node;
  node.options().timeout = 300ms;

  SECTION("503") {
    node.kubelet().Answer503();
    AttestResult result = node.AttestOnce();
    CHECK(result.outcome == Outcome::kTransientError);
    CHECK_THAT(result.reason, Catch::Contains("HTTP 503"));
  }
  SECTION("no answer: within about the timeout") {
    node.kubelet().Hang();
    auto start = steady_clock::now();
    AttestResult result = node.AttestOnce();
    CHECK(result.outcome == Outcome::kTransientError);
    CHECK(steady_clock::now() - start < 300ms + 1s);  // a bound, not a benchmark
  }
  SECTION("unreachable") {
    node.options().kubelet_url = "https://localhost:1";
    CHECK(node.AttestOnce().outcome == Outcome::kTransientError);
  }
}

TEST_CASE(
    "200 workloads retrying concurrently cost the kubelet at most one /pods request per "
    "kubelet_min_interval",
    "[k8s]") {
  constexpr int kWorkloads = 200;
  constexpr auto kInterval = 250ms;
  constexpr auto kStorm = 2s;
  Node node;
  node.options().kubelet_min_interval = kInterval;
  node.kubelet().ListPods({});  // not listed yet: every attestation is transient
  for (pid_t pid = 1000; pid < 1000 + kWorkloads; ++pid) {
    node.AddProcess(pid);
  }
  std::unique_ptr<K8sAttestor> attestor = node.Attestor();
  std::atomic<int> attestations = 0;
  std::atomic<int> transient = 0;

  auto start = steady_clock::now();
  std::vector<std::thread> workloads;
  for (pid_t pid = 1000; pid < 1000 + kWorkloads; ++pid) {
    workloads.emplace_back([&, pid] {
      while (steady_clock::now() - start < kStorm) {
        Outcome outcome = attestor->Attest(node.Request(pid)).outcome;
        ++attestations;
        transient += outcome == Outcome::kTransientError ? 1 : 0;
        // Stands in for the supervisor's retry delay; the storm is the
        // 200 threads, not a busy loop on two cores.
        std::this_thread::sleep_for(10ms);
      }
    });
  }
  for (std::thread& workload : workloads) {
    workload.join();
  }
  int requests = node.kubelet().requests();
  auto elapsed = steady_clock::now() - start;
  int allowed = static_cast<int>(elapsed / kInterval) + 1;
  std::cout << "k8s storm: " << kWorkloads << " workloads, " << attestations << " attestations in "
            << FormatDuration(elapsed) << ", " << requests << " /pods requests (at most " << allowed
            << " allowed)" << std::endl;
  CHECK(attestations == transient);
  CHECK(attestations > kWorkloads);
  CHECK(requests >= 2);
  CHECK(requests <= allowed);
}

}  // namespace
}  // namespace reattest::testing
