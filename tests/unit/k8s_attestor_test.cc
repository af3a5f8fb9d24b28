#include "attestors/k8s/k8s_attestor.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "attestors/k8s/pod_list.h"
#include "common/process.h"
#include "common/strings.h"
#include "tests/support/pod_list_json.h"
#include "tests/support/start_ticks.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait.h"

namespace reattest::attestors {
namespace {

using namespace std::chrono_literals;
using testing::FakeContainer;
using testing::FakePod;
using testing::NowTicks;
using testing::PodListJson;
using testing::TempDir;

const std::string kId = "a33bd47fe111843f9f65dbebfa43a8ad44c6d89471cc4609bd09fd3cca5e5e71";
const std::string kInitId = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const std::string kSidecarId = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
// What the kubelet reports after the container restarted.
const std::string kRestartedId(64, 'b');
const std::string kPodUid = "2f3c1a9e-6b7d-4c1e-9a8b-1d2e3f4a5b6c";
const std::string kPodUidUnderscores = "2f3c1a9e_6b7d_4c1e_9a8b_1d2e3f4a5b6c";
const std::string kOtherPodUid = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b";
constexpr pid_t kPid = 4242;
// Far older than any grace whatever the machine's uptime: started at boot.
constexpr uint64_t kAtBoot = 1;

// A web pod: an app container, a sidecar, and an init container that ran.
FakePod WebPod() {
  FakePod pod;
  pod.uid = kPodUid;
  pod.containers = {
      {"app", "registry.example/web:1.2", "registry.example/web@sha256:aaa", "containerd://" + kId,
       ""},
      {"proxy", "envoy:1.28", "docker.io/envoyproxy/envoy@sha256:bbb", "containerd://" + kSidecarId,
       ""},
  };
  pod.init_containers = {
      {"migrate", "registry.example/migrate:3", "", "containerd://" + kInitId, ""}};
  return pod;
}

PodList Parsed(const std::vector<FakePod>& pods) {
  absl::StatusOr<PodList> list = ParsePodList(PodListJson(pods));
  REQUIRE(list.ok());
  return *std::move(list);
}

TEST_CASE("A container is found by ID among regular and init containers", "[k8s-attestor]") {
  PodList list = Parsed({WebPod()});

  SECTION("a regular container, by its bare ID") {
    absl::StatusOr<std::optional<ContainerMatch>> match = FindContainer(list, kId, kPodUid);
    REQUIRE(match.ok());
    REQUIRE(match->has_value());
    CHECK((*match)->pod->uid == kPodUid);
    CHECK((*match)->container->name == "app");
  }
  SECTION("an init container") {
    absl::StatusOr<std::optional<ContainerMatch>> match = FindContainer(list, kInitId, kPodUid);
    REQUIRE(match.ok());
    REQUIRE(match->has_value());
    CHECK((*match)->container->name == "migrate");
  }
  SECTION("without a pod UID (cri-o paths)") {
    absl::StatusOr<std::optional<ContainerMatch>> match = FindContainer(list, kSidecarId, "");
    REQUIRE(match.ok());
    REQUIRE(match->has_value());
    CHECK((*match)->container->name == "proxy");
  }
}

TEST_CASE("Every runtime's containerID prefix is stripped before matching", "[k8s-attestor]") {
  std::string prefix = GENERATE("docker://", "containerd://", "cri-o://");
  FakePod pod = WebPod();
  pod.containers[0].container_id = prefix + kId;

  absl::StatusOr<std::optional<ContainerMatch>> match = FindContainer(Parsed({pod}), kId, kPodUid);

  REQUIRE(match.ok());
  CHECK(match->has_value());
}

TEST_CASE("A restarted container matches by its new ID, not its previous one", "[k8s-attestor]") {
  FakePod pod = WebPod();
  pod.containers[0].previous_container_id = "containerd://" + kId;
  pod.containers[0].container_id = "containerd://" + kRestartedId;
  PodList list = Parsed({pod});

  absl::StatusOr<std::optional<ContainerMatch>> old_id = FindContainer(list, kId, kPodUid);
  absl::StatusOr<std::optional<ContainerMatch>> new_id = FindContainer(list, kRestartedId, kPodUid);

  REQUIRE(old_id.ok());
  CHECK_FALSE(old_id->has_value());
  REQUIRE(new_id.ok());
  CHECK(new_id->has_value());
}

TEST_CASE("A container that cannot be attributed to one pod is an error", "[k8s-attestor]") {
  SECTION("two pods claim the ID") {
    FakePod other = WebPod();
    other.uid = kOtherPodUid;
    CHECK(FindContainer(Parsed({WebPod(), other}), kId, "").status().code() ==
          absl::StatusCode::kFailedPrecondition);
  }
  SECTION("the pod claiming it is not the one the cgroups name") {
    CHECK(FindContainer(Parsed({WebPod()}), kId, kOtherPodUid).status().code() ==
          absl::StatusCode::kFailedPrecondition);
  }
}

TEST_CASE("A container without a status or ID yet is not found", "[k8s-attestor]") {
  FakePod pod = WebPod();
  pod.containers[0].container_id = "";

  absl::StatusOr<std::optional<ContainerMatch>> match = FindContainer(Parsed({pod}), kId, kPodUid);

  REQUIRE(match.ok());
  CHECK_FALSE(match->has_value());
}

TEST_CASE("A match emits every k8s selector of the pod and the container", "[k8s-attestor]") {
  PodList list = Parsed({WebPod()});
  std::optional<ContainerMatch> match = *FindContainer(list, kId, kPodUid);
  REQUIRE(match.has_value());

  CHECK(PodSelectors(*match, "ignored") ==
        SelectorSet{
            "k8s:ns:prod",
            "k8s:sa:web",
            "k8s:pod-name:web-7d4b9c6f5-x2x9q",
            "k8s:pod-uid:" + kPodUid,
            "k8s:pod-label:app:web",
            "k8s:pod-owner:ReplicaSet:web-7d4b9c6f5",
            "k8s:pod-owner-uid:ReplicaSet:5c0e2f0a-1b2c-4d3e-8f9a-0b1c2d3e4f5a",
            "k8s:pod-image:registry.example/web:1.2",
            "k8s:pod-image:registry.example/web@sha256:aaa",
            "k8s:pod-image:envoy:1.28",
            "k8s:pod-image:docker.io/envoyproxy/envoy@sha256:bbb",
            "k8s:pod-image-count:2",
            "k8s:container-name:app",
            "k8s:container-image:registry.example/web:1.2",
            "k8s:node-name:node-1",
        });
}

TEST_CASE("The node name comes from the agent's environment when the pod has none",
          "[k8s-attestor]") {
  FakePod pod = WebPod();
  pod.node_name = "";
  PodList list = Parsed({pod});
  std::optional<ContainerMatch> match = *FindContainer(list, kId, kPodUid);
  REQUIRE(match.has_value());

  CHECK(PodSelectors(*match, "node-from-env").count("k8s:node-name:node-from-env") == 1);
  CHECK(PodSelectors(*match, "").count("k8s:node-name:") == 0);
}

TEST_CASE("Bodies that are not a PodList are malformed", "[k8s-attestor]") {
  std::string body = GENERATE(R"({"items": [)", R"([1, 2])", R"({"items": {}})",
                              R"({"items": [{"metadata": {"uid": 7}}]})",
                              R"({"items": [{"metadata": {"labels": {"app": 1}}}]})",
                              R"({"items": [{"status": {"containerStatuses": "x"}}]})");
  INFO(body);

  absl::StatusOr<PodList> list = ParsePodList(body);

  REQUIRE_FALSE(list.ok());
  CHECK(list.status().code() == absl::StatusCode::kDataLoss);
}

TEST_CASE("An empty PodList parses to no pods", "[k8s-attestor]") {
  absl::StatusOr<PodList> list = ParsePodList(R"({"kind": "PodList", "items": null})");

  REQUIRE(list.ok());
  CHECK(list->pods.empty());
}

// A fake procfs root, and a kubelet stood in for by a fetch function.
class Fixture {
 public:
  Fixture() {
    options_.kubelet_min_interval = 0s;
    WriteCgroup("0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" +
                kPodUidUnderscores + ".slice/cri-containerd-" + kId + ".scope\n");
  }

  void WriteCgroup(const std::string& contents) {
    std::filesystem::create_directories(dir_ / ("proc/" + std::to_string(kPid)));
    dir_.Write("proc/" + std::to_string(kPid) + "/cgroup", contents);
  }
  void Answer(std::vector<FakePod> pods) { answer_ = Parsed(pods); }
  void Fail(absl::Status status) { answer_ = status; }
  K8sOptions& options() { return options_; }
  int fetches() const { return fetches_; }

  // The attestor is made at the first call, with the options as they are then.
  AttestResult Attest(uint64_t start_time_ticks = NowTicks()) {
    if (!attestor_) {
      attestor_ =
          std::make_unique<K8sAttestor>(options_, "node-from-env", [this] { return Fetch(); });
    }
    AttestRequest request;
    request.pid = kPid;
    request.proc_root = dir_ / "proc";
    request.start_time_ticks = start_time_ticks;
    return attestor_->Attest(request);
  }

 private:
  PodListFetcher::Pods Fetch() {
    ++fetches_;
    if (!answer_.ok()) {
      return answer_.status();
    }
    return std::make_shared<const PodList>(*answer_);
  }

  TempDir dir_;
  K8sOptions options_;
  absl::StatusOr<PodList> answer_ = PodList{};
  std::atomic<int> fetches_ = 0;
  // Last member: its fetch thread calls Fetch() until it is destroyed.
  std::unique_ptr<K8sAttestor> attestor_;
};

TEST_CASE("A pod's container attests ok with its k8s selectors", "[k8s-attestor]") {
  Fixture fixture;
  fixture.Answer({WebPod()});

  AttestResult result = fixture.Attest();

  CHECK(result.outcome == Outcome::kOk);
  CHECK(result.selectors.count("k8s:pod-uid:" + kPodUid) == 1);
  CHECK(result.selectors.count("k8s:container-name:app") == 1);
  CHECK(result.container_id == kId);
  CHECK(result.pod_uid == kPodUid);
}

TEST_CASE("A CRI-O container attests without a pod UID in its cgroups", "[k8s-attestor]") {
  Fixture fixture;
  fixture.WriteCgroup("0::/system.slice/crio-" + kId + ".scope\n");
  fixture.Answer({WebPod()});

  CHECK(fixture.Attest().outcome == Outcome::kOk);
}

TEST_CASE("A process outside pods is not_applicable and the kubelet is not asked",
          "[k8s-attestor]") {
  Fixture fixture;
  SECTION("a plain host process") {
    fixture.WriteCgroup("0::/user.slice/user-0.slice/session-1.scope\n");
  }
  SECTION("a Docker container outside kubepods") {
    fixture.WriteCgroup("0::/docker/" + kId + "\n");
  }
  SECTION("a pod slice without a container") {
    fixture.WriteCgroup("0::/kubepods/besteffort/pod" + kPodUid + "\n");
  }

  AttestResult result = fixture.Attest();

  CHECK(result.outcome == Outcome::kNotApplicable);
  CHECK(fixture.fetches() == 0);
}

TEST_CASE("A container the kubelet does not list is transient, then soft after not_found_grace",
          "[k8s-attestor]") {
  Fixture fixture;
  FakePod other = WebPod();
  other.uid = kOtherPodUid;
  other.containers.clear();
  other.init_containers.clear();
  fixture.Answer({other});
  fixture.options().not_found_grace = 1s;

  SECTION("young: transient") {
    AttestResult result = fixture.Attest(NowTicks());
    CHECK(result.outcome == Outcome::kTransientError);
    CHECK_THAT(result.reason, Catch::Contains("lists no status for container " + kId));
  }
  SECTION("past the grace: soft") {
    AttestResult result = fixture.Attest(kAtBoot);
    CHECK(result.outcome == Outcome::kSoftError);
    CHECK(result.pod_uid == kPodUid);
  }
}

TEST_CASE("A process younger than the cached PodList waits for the next fetch instead of failing",
          "[k8s-attestor]") {
  Fixture fixture;
  fixture.options().kubelet_min_interval = 50ms;
  fixture.Answer({});
  // An old process: the cached list is recent enough for it, so no wait.
  REQUIRE(fixture.Attest(kAtBoot).outcome == Outcome::kSoftError);
  fixture.Answer({WebPod()});
  // A process that starts after that fetch, in a later clock tick.
  uint64_t ticks = NowTicks();
  REQUIRE(testing::WaitFor([&] { return NowTicks() > ticks; }));

  AttestResult result = fixture.Attest(NowTicks());

  CHECK(result.outcome == Outcome::kOk);
  CHECK(fixture.fetches() == 2);
}

TEST_CASE("A process older than the cached PodList and not in it fails without a new fetch",
          "[k8s-attestor]") {
  Fixture fixture;
  fixture.options().kubelet_min_interval = 10s;
  fixture.Answer({});
  REQUIRE(fixture.Attest(kAtBoot).outcome == Outcome::kSoftError);
  fixture.Answer({WebPod()});

  CHECK(fixture.Attest(kAtBoot).outcome == Outcome::kSoftError);
  CHECK(fixture.fetches() == 1);
}

TEST_CASE("A container listed in two pods is soft_error", "[k8s-attestor]") {
  Fixture fixture;
  FakePod other = WebPod();
  other.uid = kOtherPodUid;
  fixture.Answer({WebPod(), other});

  AttestResult result = fixture.Attest();

  CHECK(result.outcome == Outcome::kSoftError);
  CHECK_THAT(result.reason, Catch::Contains("listed in pods"));
}

TEST_CASE("A failed PodList fetch is transient with its reason", "[k8s-attestor]") {
  Fixture fixture;
  fixture.Fail(absl::UnavailableError("GET https://127.0.0.1:10250/pods: HTTP 401: Unauthorized"));

  AttestResult result = fixture.Attest();

  CHECK(result.outcome == Outcome::kTransientError);
  CHECK(result.reason == "GET https://127.0.0.1:10250/pods: HTTP 401: Unauthorized");
  CHECK(result.container_id == kId);
}

TEST_CASE("K8s options no request could succeed with are rejected", "[k8s-attestor]") {
  K8sOptions options;
  options.timeout = 0s;

  CHECK_FALSE(K8sAttestor::Create(options).ok());
}

}  // namespace
}  // namespace reattest::attestors
