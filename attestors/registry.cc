#include "attestors/registry.h"

#include <string_view>

#include "attestors/docker/docker_attestor.h"
#include "attestors/k8s/k8s_attestor.h"
#include "attestors/unix/unix_attestor.h"
#include "common/strings.h"

namespace reattest::attestors {
namespace {

// Builds one attestor from the options, or returns nullptr when the config
// does not enable it.
using Factory = absl::StatusOr<std::unique_ptr<Attestor>> (*)(const AttestorsOptions& options);

struct Registration {
  std::string_view name;
  Factory build;
};

absl::StatusOr<std::unique_ptr<Attestor>> BuildUnix(const AttestorsOptions& options) {
  if (!options.unix_attestor.has_value()) {
    return nullptr;
  }
  return std::make_unique<UnixAttestor>(*options.unix_attestor);
}

absl::StatusOr<std::unique_ptr<Attestor>> BuildDocker(const AttestorsOptions& options) {
  if (!options.docker.has_value()) {
    return nullptr;
  }
  return DockerAttestor::Create(*options.docker);
}

absl::StatusOr<std::unique_ptr<Attestor>> BuildK8s(const AttestorsOptions& options) {
  if (!options.k8s.has_value()) {
    return nullptr;
  }
  return K8sAttestor::Create(*options.k8s);
}

// Table order is the order of BuildAttestors' result: unix, docker, k8s. An
// attestor joins by adding its factory here, in its place.
constexpr Registration kRegistrations[] = {
    {"unix", BuildUnix},
    {"docker", BuildDocker},
    {"k8s", BuildK8s},
};

}  // namespace

absl::StatusOr<std::vector<std::unique_ptr<Attestor>>> BuildAttestors(
    const AttestorsOptions& options) {
  std::vector<std::unique_ptr<Attestor>> attestors;
  for (const Registration& registration : kRegistrations) {
    absl::StatusOr<std::unique_ptr<Attestor>> attestor = registration.build(options);
    if (!attestor.ok()) {
      return absl::Status(attestor.status().code(), Concat("attestors.", registration.name, ": ",
                                                           attestor.status().message()));
    }
    if (*attestor != nullptr) {
      attestors.push_back(*std::move(attestor));
    }
  }
  return attestors;
}

}  // namespace reattest::attestors
