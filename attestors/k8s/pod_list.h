// The kubelet's `GET /pods` answer (a PodList) reduced to what the k8s
// attestor uses, the lookup of one container in it, and the selectors of a
// match (SPEC section 2).
//
// Pure functions and immutable values: a parsed PodList is shared by every
// attestation that waited on the same fetch, on many threads at once.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/selector.h"

namespace reattest::attestors {

struct PodOwner {
  std::string kind;
  std::string name;
  std::string uid;
};

// One entry of `status.containerStatuses` or `status.initContainerStatuses`.
struct PodContainer {
  std::string name;
  std::string image;
  std::string image_id;
  // `containerID` without its `docker://`, `containerd://` or `cri-o://`
  // prefix; empty while the container has not started.
  std::string container_id;
};

struct Pod {
  std::string uid;
  std::string name;
  std::string namespace_name;
  std::string service_account;
  std::string node_name;
  std::map<std::string, std::string> labels;
  std::vector<PodOwner> owners;
  std::vector<PodContainer> containers;
  std::vector<PodContainer> init_containers;
};

struct PodList {
  std::vector<Pod> pods;
};

// Parses a PodList body. Absent fields are empty; fields of the wrong type
// or a body that is not a PodList are DataLoss errors naming what is wrong.
absl::StatusOr<PodList> ParsePodList(std::string_view body);

// A container found in a PodList; points into it.
struct ContainerMatch {
  const Pod* pod = nullptr;
  const PodContainer* container = nullptr;
};

// The pod and container status whose container ID is `container_id`, among
// both regular and init containers. nullopt: not listed (yet). Errors
// (FailedPrecondition): two pods claim the ID, or the one that does is not
// `pod_uid` (when not empty, the pod the cgroup paths name); either way the
// process cannot be attributed to one pod.
absl::StatusOr<std::optional<ContainerMatch>> FindContainer(const PodList& pods,
                                                            std::string_view container_id,
                                                            std::string_view pod_uid);

// Every `k8s:` selector of a match. `k8s:node-name` is the pod's
// `spec.nodeName`, or `node_name` when the kubelet left it empty.
SelectorSet PodSelectors(const ContainerMatch& match, std::string_view node_name);

}  // namespace reattest::attestors
