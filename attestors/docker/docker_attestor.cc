#include "attestors/docker/docker_attestor.h"

#include <chrono>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "common/process.h"
#include "common/strings.h"

namespace reattest::attestors {
namespace {

using Runtime = CgroupInfo::Runtime;

AttestResult WithOutcome(Outcome outcome, std::string reason, AttestResult result = {}) {
  result.outcome = outcome;
  result.reason = std::move(reason);
  return result;
}

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

// Reads /proc/PID/cgroup and parses it; errors carry the path or the conflict.
absl::StatusOr<CgroupInfo> ReadCgroups(const AttestRequest& request) {
  absl::StatusOr<std::string> contents =
      ReadSmallFile(Concat(request.proc_root, "/", request.pid, "/cgroup"));
  if (!contents.ok()) {
    return contents.status();
  }
  return ParseCgroups(*contents);
}

absl::StatusOr<uint64_t> StartTime(const AttestRequest& request) {
  if (request.start_time_ticks != 0) {
    return request.start_time_ticks;
  }
  return ReadStartTime(request.proc_root, request.pid);
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
  // Unreadable means the process is gone or hidden from us; two containers
  // mean it cannot be attributed. Neither improves with a retry.
  absl::StatusOr<CgroupInfo> cgroups = ReadCgroups(request);
  if (!cgroups.ok()) {
    return WithOutcome(Outcome::kSoftError, Concat(cgroups.status().message()));
  }
  if (!IsDockerContainer(*cgroups)) {
    return AttestResult{};  // not_applicable
  }

  AttestResult result;
  result.container_id = cgroups->container_id;
  result.pod_uid = cgroups->pod_uid;
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

// Docker may answer 404 for a container it is still creating, so a young
// process is retried; an old one is a container some other runtime made in a
// docker-looking cgroup, and retrying it would never end.
AttestResult DockerAttestor::NotFound(const AttestRequest& request, AttestResult result) const {
  std::string unknown =
      Concat("Docker at ", options_.socket_path, " does not know container ", result.container_id);
  absl::StatusOr<uint64_t> start_time = StartTime(request);
  if (!start_time.ok()) {
    return WithOutcome(
        Outcome::kSoftError,
        Concat(unknown, ", and the process's age is unknown: ", start_time.status().message()),
        std::move(result));
  }

  auto age = std::chrono::duration_cast<Duration>(
      std::chrono::duration<double>(ProcessAgeSeconds(*start_time)));
  std::string ages = Concat("process is ", FormatDuration(age), " old, not_found_grace is ",
                            FormatDuration(options_.not_found_grace));
  if (age < options_.not_found_grace) {
    return WithOutcome(Outcome::kTransientError, Concat(unknown, " yet (", ages, ")"),
                       std::move(result));
  }
  return WithOutcome(Outcome::kSoftError, Concat(unknown, " (", ages, ")"), std::move(result));
}

}  // namespace reattest::attestors
