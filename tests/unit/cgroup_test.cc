#include "attestors/cgroup.h"

#include <catch2/catch.hpp>
#include <string>

#include "attestors/docker/docker_attestor.h"
#include "attestors/k8s/k8s_attestor.h"

namespace reattest::attestors {
namespace {

using Runtime = CgroupInfo::Runtime;

const std::string kId = "a33bd47fe111843f9f65dbebfa43a8ad44c6d89471cc4609bd09fd3cca5e5e71";
const std::string kOtherId = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const std::string kPodUid = "2f3c1a9e-6b7d-4c1e-9a8b-1d2e3f4a5b6c";
const std::string kPodUidUnderscores = "2f3c1a9e_6b7d_4c1e_9a8b_1d2e3f4a5b6c";
const std::string kOtherPodUid = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b";

// Every hierarchy of a cgroup v1 + v2 ("hybrid") host, the shape of this
// test machine, with the same path on each line.
std::string HybridLines(const std::string& path) {
  std::string lines;
  for (const char* hierarchy : {"9:name=systemd", "8:pids", "7:blkio", "6:freezer", "5:devices",
                                "4:memory", "3:cpuset", "2:cpuacct", "1:cpu", "0:"}) {
    lines += std::string(hierarchy) + ":" + path + "\n";
  }
  return lines;
}

struct Case {
  const char* name;
  std::string contents;
  std::string container_id;
  Runtime runtime;
  std::string pod_uid;
  bool under_kubepods;
  bool dockers;
  bool pods;
};

// Real /proc/PID/cgroup contents of each kind of process an agent meets.
const Case kCases[] = {
    {"docker, cgroupfs driver, cgroup v1 and v2 lines", HybridLines("/docker/" + kId), kId,
     Runtime::kDocker, "", false, true, false},
    {"docker, cgroupfs driver, cgroup v2 only", "0::/docker/" + kId + "\n", kId, Runtime::kDocker,
     "", false, true, false},
    {"docker, systemd driver", "0::/system.slice/docker-" + kId + ".scope\n", kId, Runtime::kDocker,
     "", false, true, false},
    {"docker, systemd driver, v1 lines",
     "12:pids:/system.slice/docker-" + kId + ".scope\n1:name=systemd:/system.slice/docker-" + kId +
         ".scope\n0::/\n",
     kId, Runtime::kDocker, "", false, true, false},
    {"docker in docker: the innermost container", "0::/docker/" + kOtherId + "/docker/" + kId, kId,
     Runtime::kDocker, "", false, true, false},
    {"containerd, systemd driver, kubepods slices",
     "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + kPodUidUnderscores +
         ".slice/cri-containerd-" + kId + ".scope\n",
     kId, Runtime::kContainerd, kPodUid, true, false, true},
    {"cri-o, systemd driver, kubepods slices",
     "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + kPodUidUnderscores +
         ".slice/crio-" + kId + ".scope\n",
     kId, Runtime::kCrio, kPodUid, true, false, true},
    {"cri-o's conmon names the pod but no container",
     "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + kPodUidUnderscores +
         ".slice/crio-conmon-" + kId + ".scope\n",
     "", Runtime::kNone, kPodUid, true, false, false},
    {"podman (libpod), below the scope", "0::/machine.slice/libpod-" + kId + ".scope/container\n",
     kId, Runtime::kLibpod, "", false, false, false},
    {"kubepods, cgroupfs driver (dockershim)",
     HybridLines("/kubepods/burstable/pod" + kPodUid + "/" + kId), kId, Runtime::kDockershimOrOther,
     kPodUid, true, true, true},
    {"kubepods, guaranteed QoS, systemd driver with docker",
     "0::/kubepods.slice/kubepods-pod" + kPodUidUnderscores + ".slice/docker-" + kId + ".scope\n",
     kId, Runtime::kDocker, kPodUid, true, true, true},
    {"a bare ID outside kubepods and docker", "0::/custom-parent/" + kId + "\n", kId,
     Runtime::kDockershimOrOther, "", false, false, false},
    {"a line naming the runtime wins over a bare ID",
     "4:memory:/kubepods/besteffort/pod" + kPodUid + "/" + kId +
         "\n1:name=systemd:/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" +
         kPodUidUnderscores + ".slice/docker-" + kId + ".scope\n",
     kId, Runtime::kDocker, kPodUid, true, true, true},
    {"an agent in a private cgroup namespace sees ..", "0::/../../docker/" + kId + "\n", kId,
     Runtime::kDocker, "", false, true, false},
    {".. before a kubepods path", "0::/../../kubepods/besteffort/pod" + kPodUid + "/" + kId + "\n",
     kId, Runtime::kDockershimOrOther, kPodUid, true, true, true},
    {"a host process under /process_api/<32 hex>",
     "9:name=systemd:/\n4:memory:/process_api/449eb7fde34d0ad11d291f173ffa3ba1\n0::/\n", "",
     Runtime::kNone, "", false, false, false},
    {"a plain host process", "0::/user.slice/user-0.slice/session-1.scope\n", "", Runtime::kNone,
     "", false, false, false},
    {"63 and 65 hex digits are not container IDs",
     "0::/docker/" + kId.substr(1) + "\n1:cpu:/docker/" + kId + "0\n", "", Runtime::kNone, "",
     false, false, false},
    {"an empty file", "", "", Runtime::kNone, "", false, false, false},
    {"cri-o, systemd driver, no pod slice", "0::/system.slice/crio-" + kId + ".scope\n", kId,
     Runtime::kCrio, "", false, false, true},
    {"containerd, systemd driver, cgroup v1 and v2 lines",
     HybridLines("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" +
                 kPodUidUnderscores + ".slice/cri-containerd-" + kId + ".scope"),
     kId, Runtime::kContainerd, kPodUid, true, false, true},
    {"containerd, cgroupfs driver, cgroup v2 only",
     "0::/kubepods/besteffort/pod" + kPodUid + "/" + kId + "\n", kId, Runtime::kDockershimOrOther,
     kPodUid, true, true, true},
    {"a pod's sandbox slice without a container", "0::/kubepods/besteffort/pod" + kPodUid + "\n",
     "", Runtime::kNone, kPodUid, true, false, false},
};

TEST_CASE(
    "Container IDs and pod UIDs are read from real /proc/PID/cgroup contents, and decide "
    "whether docker and k8s apply",
    "[cgroup]") {
  for (const Case& c : kCases) {
    DYNAMIC_SECTION(c.name) {
      absl::StatusOr<CgroupInfo> info = ParseCgroups(c.contents);
      REQUIRE(info.ok());
      CHECK(info->container_id == c.container_id);
      CHECK(info->runtime == c.runtime);
      CHECK(info->pod_uid == c.pod_uid);
      CHECK(info->under_kubepods == c.under_kubepods);
      CHECK(IsDockerContainer(*info) == c.dockers);
      CHECK(IsPodContainer(*info) == c.pods);
    }
  }
}

TEST_CASE("Malformed cgroup lines are skipped, not taken as paths", "[cgroup]") {
  // The `x:` line would conflict if it were read.
  std::string contents = "garbage\n\n12:cpu\nx:memory:/docker/" + kOtherId +
                         "\n5:devices:relative/docker/" + kOtherId + "\n0::/docker/" + kId + "\n";

  absl::StatusOr<CgroupInfo> info = ParseCgroups(contents);

  REQUIRE(info.ok());
  CHECK(info->container_id == kId);
  CHECK(info->runtime == Runtime::kDocker);
}

TEST_CASE("A process whose cgroups name two containers or two pods is a conflict", "[cgroup]") {
  SECTION("two container IDs on different lines") {
    absl::StatusOr<CgroupInfo> info =
        ParseCgroups("4:memory:/docker/" + kId + "\n0::/docker/" + kOtherId + "\n");
    REQUIRE_FALSE(info.ok());
    CHECK(info.status().code() == absl::StatusCode::kInvalidArgument);
  }

  SECTION("two pod UIDs on different lines") {
    absl::StatusOr<CgroupInfo> info =
        ParseCgroups("4:memory:/kubepods/besteffort/pod" + kPodUid + "/" + kId +
                     "\n0::/kubepods/besteffort/pod" + kOtherPodUid + "/" + kId + "\n");
    REQUIRE_FALSE(info.ok());
  }

  SECTION("the same ID spelled two ways is no conflict") {
    absl::StatusOr<CgroupInfo> info =
        ParseCgroups("4:memory:/docker/" + kId + "\n0::/system.slice/docker-" + kId + ".scope\n");
    REQUIRE(info.ok());
    CHECK(info->container_id == kId);
  }
}

}  // namespace
}  // namespace reattest::attestors
