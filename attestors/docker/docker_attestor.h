// The docker attestor (SPEC section 2): selectors from the Docker Engine's
// record of the container a process runs in.
//
// Whether a process is Docker's is decided from its cgroup paths alone; only
// then is the daemon asked, so a plain process never waits on Docker.
#pragma once

#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "attestors/attestor.h"
#include "attestors/cgroup.h"
#include "attestors/docker/docker_client.h"
#include "attestors/docker/docker_options.h"

namespace reattest::attestors {

// True for a container that Docker runs: `/docker/<id>` (cgroupfs),
// `docker-<id>.scope` (systemd), or a bare ID under a kubepods path
// (dockershim). Containers of containerd, CRI-O and podman are not Docker's.
bool IsDockerContainer(const CgroupInfo& cgroups);

class DockerAttestor : public Attestor {
 public:
  // Rejects options no request could succeed with (empty socket path,
  // timeout not positive).
  static absl::StatusOr<std::unique_ptr<DockerAttestor>> Create(const DockerOptions& options);

  std::string_view name() const override { return "docker"; }
  WorkKind work_kind() const override { return WorkKind::kNetwork; }

  // Blocking: a /proc read, then for Docker's containers one request to the
  // daemon, bounded by `timeout`. Thread-safe: the options and the client
  // are immutable.
  //
  // `ok`: `docker:label:KEY:VALUE` for each label, `docker:image_id:IMAGE`
  // (Config.Image), `docker:env:KEY=VALUE` for each variable. Environment
  // variables may hold secrets: selectors are not for logs at info level.
  // `not_applicable`: the cgroup paths name no container, or not Docker's.
  // `soft_error`: /proc/PID/cgroup unreadable (the process exited), two
  //   container IDs in its paths, or Docker answers 404 for a process older
  //   than `not_found_grace` (a container Docker does not run).
  // `transient_error`: Docker answers 404 for a younger process (not yet
  //   registered), or gives no usable answer (socket missing, connection
  //   refused, timeout, HTTP 5xx or another status, malformed JSON).
  // `container_id` (and `pod_uid`, when a pod segment names one) are set
  // for every outcome on a Docker container.
  AttestResult Attest(const AttestRequest& request) override;

 private:
  explicit DockerAttestor(const DockerOptions& options)
      : options_(options), client_(options.socket_path, options.timeout) {}

  // The outcome of a 404 for the container of `request`'s process.
  AttestResult NotFound(const AttestRequest& request, AttestResult result) const;

  const DockerOptions options_;
  const DockerClient client_;
};

}  // namespace reattest::attestors
