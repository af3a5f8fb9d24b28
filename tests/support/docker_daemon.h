// A private Docker Engine for tests: Debian's dockerd started by hand with its
// own data and exec roots and socket under /tmp, networking off, the cgroupfs
// driver and live-restore (see NOTES, "A real Docker Engine in tests").
//
// No registry is reachable, so images are imported from a rootfs holding
// Debian's static busybox. Needs root and the packages docker.io and
// busybox-static. Not thread-safe: one test drives one daemon.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace reattest::testing {

class DockerDaemon {
 public:
  struct Container {
    std::string id;  // 64 hex digits
    pid_t pid = 0;   // the container's first process, as the host sees it
  };

  // Starts a daemon in a fresh directory under /tmp and waits until it
  // answers `/_ping`. The error says what is missing or quotes its log.
  static absl::StatusOr<std::unique_ptr<DockerDaemon>> Start();

  // Best effort, and leaves nothing running: removes the containers (starting
  // the daemon again if it is down), stops the daemon, unmounts and deletes
  // its directories.
  ~DockerDaemon();
  DockerDaemon(const DockerDaemon&) = delete;
  DockerDaemon& operator=(const DockerDaemon&) = delete;

  const std::string& socket_path() const { return socket_path_; }
  // `overlay2`, or `vfs` where overlay2 does not work on /tmp's filesystem.
  const std::string& storage_driver() const { return storage_driver_; }

  // `docker import` of a rootfs with /bin/busybox and /bin/sh and /bin/sleep
  // links to it, tagged `name`.
  absl::Status ImportBusybox(const std::string& name);
  // `docker run -d ARGS...`: the new container's ID and host PID.
  absl::StatusOr<Container> Run(const std::vector<std::string>& args);

  // SIGKILL: the socket file stays behind, so clients get ECONNREFUSED.
  // Containers keep running (live-restore).
  absl::Status Kill();
  // SIGTERM: the daemon removes its socket, so clients get ENOENT.
  absl::Status Stop();
  // Starts the daemon again after Kill() or Stop() and waits for `/_ping`.
  absl::Status Restart();

 private:
  DockerDaemon(std::string root, std::string storage_driver);

  std::string Path(const std::string& name) const { return root_ + "/" + name; }
  absl::Status Launch();
  absl::Status WaitReady();
  absl::Status Signal(int signal);
  void ForgetDeadContainerd();
  // Runs the docker CLI against this daemon; its standard output, trimmed.
  absl::StatusOr<std::string> Cli(const std::vector<std::string>& args);
  void RemoveContainers();
  void KillLeftovers();
  void UnmountAll();

  const std::string root_;
  const std::string storage_driver_;
  const std::string socket_path_;
  pid_t pid_ = -1;
  std::vector<Container> containers_;
};

}  // namespace reattest::testing
