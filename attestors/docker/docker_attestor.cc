#include "attestors/docker/docker_attestor.h"

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "attestors/container_lookup.h"
#include "common/strings.h"

namespace reattest::attestors {
namespace {

using Runtime = CgroupInfo::Runtime;

SelectorSet Selectors(const ContainerConfig& config) {
  SelectorSet selectors;
  for (const auto& [key, value] : config.labels) {
    selectors.insert(Concat("docker:label:", key, ":", value));
  }
  selectors.insert(Concat("docker:image_id:", config.image));
  for (const std::string& variable : config.env) {
    selectors.insert(Concat("docker:env:", variable));
  }
  return selectors;
}

}  // namespace

bool IsDockerContainer(const CgroupInfo& cgroups) {
  return cgroups.runtime == Runtime::kDocker ||
         (cgroups.runtime == Runtime::kDockershimOrOther && cgroups.under_kubepods);
}

absl::StatusOr<std::unique_ptr<DockerAttestor>> DockerAttestor::Create(
    const DockerOptions& options) {
  if (options.socket_path.empty()) {
    return absl::InvalidArgumentError("socket_path is empty");
  }
  if (options.timeout <= Duration::zero()) {
    return absl::InvalidArgumentError("timeout must be positive");
  }
  return std::unique_ptr<DockerAttestor>(new DockerAttestor(options));
}

AttestResult DockerAttestor::Attest(const AttestRequest& request) {
  Recognition recognition = RecogniseContainer(request, IsDockerContainer);
  if (!recognition.recognised) {
    return recognition.result;
  }

  AttestResult result = std::move(recognition.result);
  absl::StatusOr<std::optional<ContainerConfig>> config =
      client_.InspectContainer(result.container_id);
  if (!config.ok()) {
    return WithOutcome(Outcome::kTransientError, Concat(config.status().message()),
                       std::move(result));
  }
  if (!config->has_value()) {
    return NotFound(request, std::move(result));
  }

  result.outcome = Outcome::kOk;
  result.selectors = Selectors(**config);
  return result;
}

// Docker may answer 404 for a container it is still creating; an old process
// is one of a container some other runtime made in a docker-looking cgroup.
AttestResult DockerAttestor::NotFound(const AttestRequest& request, AttestResult result) const {
  std::string unknown =
      Concat("Docker at ", options_.socket_path, " does not know container ", result.container_id);
  return NotFoundResult(request, options_.not_found_grace, std::move(unknown), std::move(result));
}

}  // namespace reattest::attestors
