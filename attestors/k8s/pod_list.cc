#include "attestors/k8s/pod_list.h"

#include <simdjson.h>

#include <initializer_list>
#include <utility>

#include "absl/status/status.h"
#include "common/strings.h"

namespace reattest::attestors {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

absl::Status Malformed(std::string_view what) {
  return absl::DataLossError(Concat("malformed PodList JSON: ", what));
}

// `parent.key` as a string into `out`; absent or null leaves `out` empty.
absl::Status OptionalString(object parent, std::string_view key, std::string& out) {
  element value;
  if (parent[key].get(value) != simdjson::SUCCESS || value.is_null()) {
    return absl::OkStatus();
  }
  std::string_view text;
  if (value.get(text) != simdjson::SUCCESS) {
    return Malformed(Concat(key, " is not a string"));
  }
  out = text;
  return absl::OkStatus();
}

// Each key of `parent` as a string into its target, as OptionalString does.
absl::Status OptionalStrings(
    object parent, std::initializer_list<std::pair<std::string_view, std::string*>> keys) {
  for (const auto& [key, target] : keys) {
    if (absl::Status status = OptionalString(parent, key, *target); !status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

// `parent.key` as a T (an object or an array, named `what` in errors);
// absent or null is nullopt.
template <typename T>
absl::StatusOr<std::optional<T>> Optional(object parent, std::string_view key,
                                          std::string_view what) {
  element value;
  if (parent[key].get(value) != simdjson::SUCCESS || value.is_null()) {
    return std::nullopt;
  }
  T result;
  if (value.get(result) != simdjson::SUCCESS) {
    return Malformed(Concat(key, " is not ", what));
  }
  return result;
}

// Calls `parse(object)` for each element of `parent.key`, which must all be objects.
template <typename ParseOne>
absl::Status ForEachObject(object parent, std::string_view key, ParseOne parse) {
  absl::StatusOr<std::optional<array>> items = Optional<array>(parent, key, "an array");
  if (!items.ok() || !items->has_value()) {
    return items.status();
  }
  for (element item : **items) {
    object fields;
    if (item.get(fields) != simdjson::SUCCESS) {
      return Malformed(Concat(key, " holds a non-object"));
    }
    if (absl::Status status = parse(fields); !status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

// `containerd://<id>` -> `<id>`: every runtime prefixes its IDs with its name.
std::string BareContainerId(std::string_view id) {
  size_t scheme = id.find("://");
  return std::string(scheme == std::string_view::npos ? id : id.substr(scheme + 3));
}

absl::Status ParseContainer(object fields, std::vector<PodContainer>& out) {
  PodContainer container;
  std::string id;
  absl::Status status = OptionalStrings(fields, {{"name", &container.name},
                                                 {"image", &container.image},
                                                 {"imageID", &container.image_id},
                                                 {"containerID", &id}});
  container.container_id = BareContainerId(id);
  out.push_back(std::move(container));
  return status;
}

absl::Status ParseLabels(object metadata, std::map<std::string, std::string>& out) {
  absl::StatusOr<std::optional<object>> labels = Optional<object>(metadata, "labels", "an object");
  if (!labels.ok() || !labels->has_value()) {
    return labels.status();
  }
  for (simdjson::dom::key_value_pair label : **labels) {
    std::string_view value;
    if (label.value.get(value) != simdjson::SUCCESS) {
      return Malformed(Concat("label ", label.key, " is not a string"));
    }
    out.emplace(label.key, value);
  }
  return absl::OkStatus();
}

absl::Status ParseOwner(object fields, std::vector<PodOwner>& out) {
  PodOwner owner;
  absl::Status status =
      OptionalStrings(fields, {{"kind", &owner.kind}, {"name", &owner.name}, {"uid", &owner.uid}});
  out.push_back(std::move(owner));
  return status;
}

absl::Status ParseMetadata(object metadata, Pod& pod) {
  absl::Status status = OptionalStrings(
      metadata, {{"uid", &pod.uid}, {"name", &pod.name}, {"namespace", &pod.namespace_name}});
  if (status.ok()) {
    status = ParseLabels(metadata, pod.labels);
  }
  if (status.ok()) {
    status = ForEachObject(metadata, "ownerReferences",
                           [&pod](object owner) { return ParseOwner(owner, pod.owners); });
  }
  return status;
}

absl::Status ParseSpec(object spec, Pod& pod) {
  return OptionalStrings(
      spec, {{"serviceAccountName", &pod.service_account}, {"nodeName", &pod.node_name}});
}

absl::Status ParseStatus(object status, Pod& pod) {
  absl::Status parsed = ForEachObject(status, "containerStatuses", [&pod](object container) {
    return ParseContainer(container, pod.containers);
  });
  if (!parsed.ok()) {
    return parsed;
  }
  return ForEachObject(status, "initContainerStatuses", [&pod](object container) {
    return ParseContainer(container, pod.init_containers);
  });
}

// Each of a pod's sections, absent ones skipped.
absl::Status ParsePod(object fields, std::vector<Pod>& out) {
  using SectionParser = absl::Status (*)(object, Pod&);
  constexpr std::pair<const char*, SectionParser> kSections[] = {
      {"metadata", ParseMetadata}, {"spec", ParseSpec}, {"status", ParseStatus}};
  Pod pod;
  for (const auto& [key, parse] : kSections) {
    absl::StatusOr<std::optional<object>> section = Optional<object>(fields, key, "an object");
    if (!section.ok()) {
      return section.status();
    }
    if (section->has_value()) {
      if (absl::Status status = parse(**section, pod); !status.ok()) {
        return status;
      }
    }
  }
  out.push_back(std::move(pod));
  return absl::OkStatus();
}

// The container of `pod` with `container_id`, regular or init; nullptr if none.
const PodContainer* ContainerOfPod(const Pod& pod, std::string_view container_id) {
  for (const std::vector<PodContainer>* containers : {&pod.containers, &pod.init_containers}) {
    for (const PodContainer& container : *containers) {
      if (container.container_id == container_id) {
        return &container;
      }
    }
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<PodList> ParsePodList(std::string_view body) {
  simdjson::dom::parser parser;
  object document;
  if (parser.parse(body.data(), body.size()).get(document) != simdjson::SUCCESS) {
    return Malformed("not a JSON object");
  }
  PodList list;
  absl::Status status =
      ForEachObject(document, "items", [&list](object pod) { return ParsePod(pod, list.pods); });
  if (!status.ok()) {
    return status;
  }
  return list;
}

absl::StatusOr<std::optional<ContainerMatch>> FindContainer(const PodList& pods,
                                                            std::string_view container_id,
                                                            std::string_view pod_uid) {
  std::optional<ContainerMatch> match;
  for (const Pod& pod : pods.pods) {
    const PodContainer* container = ContainerOfPod(pod, container_id);
    if (container == nullptr) {
      continue;
    }
    if (match.has_value()) {
      return absl::FailedPreconditionError(Concat("container ", container_id, " is listed in pods ",
                                                  match->pod->uid, " and ", pod.uid));
    }
    match = ContainerMatch{&pod, container};
  }
  if (match.has_value() && !pod_uid.empty() && match->pod->uid != pod_uid) {
    return absl::FailedPreconditionError(Concat("container ", container_id, " is listed in pod ",
                                                match->pod->uid, " but its cgroups name pod ",
                                                pod_uid));
  }
  return match;
}

SelectorSet PodSelectors(const ContainerMatch& match, std::string_view node_name) {
  const Pod& pod = *match.pod;
  SelectorSet selectors = {
      Concat("k8s:ns:", pod.namespace_name),
      Concat("k8s:sa:", pod.service_account),
      Concat("k8s:pod-name:", pod.name),
      Concat("k8s:pod-uid:", pod.uid),
      Concat("k8s:pod-image-count:", pod.containers.size()),
      Concat("k8s:container-name:", match.container->name),
      Concat("k8s:container-image:", match.container->image),
  };
  std::string_view node = pod.node_name.empty() ? node_name : pod.node_name;
  if (!node.empty()) {
    selectors.insert(Concat("k8s:node-name:", node));
  }
  for (const auto& [key, value] : pod.labels) {
    selectors.insert(Concat("k8s:pod-label:", key, ":", value));
  }
  for (const PodOwner& owner : pod.owners) {
    selectors.insert(Concat("k8s:pod-owner:", owner.kind, ":", owner.name));
    selectors.insert(Concat("k8s:pod-owner-uid:", owner.kind, ":", owner.uid));
  }
  // As SPIRE does: the images of the pod's regular containers, by name and by digest.
  for (const PodContainer& container : pod.containers) {
    for (const std::string* image : {&container.image, &container.image_id}) {
      if (!image->empty()) {
        selectors.insert(Concat("k8s:pod-image:", *image));
      }
    }
  }
  return selectors;
}

}  // namespace reattest::attestors
