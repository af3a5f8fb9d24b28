// The one place that knows every attestor: which are enabled is decided by
// the config, how each is built by its own factory here.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "attestors/attestor.h"
#include "attestors/docker/docker_options.h"
#include "attestors/k8s/k8s_options.h"
#include "attestors/unix/unix_options.h"

namespace reattest::attestors {

// An attestor is enabled by being present.
struct AttestorsOptions {
  std::optional<UnixOptions> unix_attestor;
  std::optional<DockerOptions> docker;
  std::optional<K8sOptions> k8s;
};

// Builds every enabled attestor that this release implements, in a fixed
// order (unix, docker, k8s). `proc_root` is where attestors read /proc.
absl::StatusOr<std::vector<std::unique_ptr<Attestor>>> BuildAttestors(
    const AttestorsOptions& options);

}  // namespace reattest::attestors
