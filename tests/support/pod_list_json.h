// PodList bodies in the shape a real kubelet's `GET /pods` returns, for the
// unit tests of the k8s attestor and for the fake kubelet. Header-only so the
// unit tests, which link no test support sources, can use it.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace reattest::testing {

struct FakeContainer {
  std::string name;
  std::string image;
  std::string image_id;
  // As the kubelet writes it, with its runtime prefix: `containerd://<id>`.
  std::string container_id;
  // A restarted container's previous ID, reported under lastState.
  std::string previous_container_id;
};

struct FakePod {
  std::string uid;
  std::string name = "web-7d4b9c6f5-x2x9q";
  std::string namespace_name = "prod";
  std::string service_account = "web";
  std::string node_name = "node-1";
  std::map<std::string, std::string> labels = {{"app", "web"}};
  // kind, name, uid of the one owner reference; none when kind is empty.
  std::string owner_kind = "ReplicaSet";
  std::string owner_name = "web-7d4b9c6f5";
  std::string owner_uid = "5c0e2f0a-1b2c-4d3e-8f9a-0b1c2d3e4f5a";
  std::vector<FakeContainer> containers;
  std::vector<FakeContainer> init_containers;
};

inline nlohmann::json ContainerStatusJson(const FakeContainer& container) {
  nlohmann::json status = {
      {"name", container.name},
      {"image", container.image},
      {"imageID", container.image_id},
      {"ready", true},
      {"restartCount", 0},
      {"started", true},
      {"state", {{"running", {{"startedAt", "2026-12-04T06:00:00Z"}}}}},
  };
  if (!container.container_id.empty()) {
    status["containerID"] = container.container_id;
  }
  if (!container.previous_container_id.empty()) {
    status["restartCount"] = 1;
    status["lastState"] = {
        {"terminated", {{"exitCode", 137}, {"containerID", container.previous_container_id}}}};
  }
  return status;
}

inline nlohmann::json PodJson(const FakePod& pod) {
  nlohmann::json metadata = {{"name", pod.name},
                             {"namespace", pod.namespace_name},
                             {"uid", pod.uid},
                             {"resourceVersion", "48213"},
                             {"creationTimestamp", "2026-12-04T06:00:00Z"},
                             {"labels", pod.labels}};
  if (!pod.owner_kind.empty()) {
    metadata["ownerReferences"] = {{{"apiVersion", "apps/v1"},
                                    {"kind", pod.owner_kind},
                                    {"name", pod.owner_name},
                                    {"uid", pod.owner_uid},
                                    {"controller", true}}};
  }
  nlohmann::json spec_containers = nlohmann::json::array();
  nlohmann::json statuses = nlohmann::json::array();
  for (const FakeContainer& container : pod.containers) {
    spec_containers.push_back({{"name", container.name}, {"image", container.image}});
    statuses.push_back(ContainerStatusJson(container));
  }
  nlohmann::json init_statuses = nlohmann::json::array();
  for (const FakeContainer& container : pod.init_containers) {
    init_statuses.push_back(ContainerStatusJson(container));
  }
  return {{"metadata", metadata},
          {"spec",
           {{"containers", spec_containers},
            {"serviceAccountName", pod.service_account},
            {"nodeName", pod.node_name}}},
          {"status",
           {{"phase", "Running"},
            {"podIP", "10.1.2.3"},
            {"containerStatuses", statuses},
            {"initContainerStatuses", init_statuses}}}};
}

inline std::string PodListJson(const std::vector<FakePod>& pods) {
  nlohmann::json items = nlohmann::json::array();
  for (const FakePod& pod : pods) {
    items.push_back(PodJson(pod));
  }
  return nlohmann::json{{"kind", "PodList"},
                        {"apiVersion", "v1"},
                        {"metadata", nlohmann::json::object()},
                        {"items", items}}
      .dump();
}

}  // namespace reattest::testing
