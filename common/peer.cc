#include "common/peer.h"

#include <sys/socket.h>

#include <cerrno>

#include "common/strings.h"

#ifndef SO_PEERPIDFD
// Linux 6.5; missing from Debian 12's kernel headers.
#define SO_PEERPIDFD 77
#endif

namespace reattest {
namespace {

absl::StatusOr<Pidfd> PeerPidfd(int fd) {
  int pidfd = -1;
  socklen_t len = sizeof(pidfd);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) != 0) {
    return absl::ErrnoToStatus(errno, "getsockopt(SO_PEERPIDFD)");
  }
  return Pidfd(pidfd);
}

}  // namespace

absl::StatusOr<PeerCredentials> ReadPeerCredentials(int fd, PidfdSource source) {
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    return absl::ErrnoToStatus(errno, "getsockopt(SO_PEERCRED)");
  }
  if (cred.pid == 0) {
    return absl::FailedPreconditionError(
        "caller's PID is 0: it runs in a PID namespace this agent cannot see");
  }

  PeerCredentials peer;
  peer.pid = cred.pid;
  peer.uid = cred.uid;
  peer.gid = cred.gid;

  absl::StatusOr<Pidfd> pidfd =
      source == PidfdSource::kPidfdOpen ? Pidfd::Open(cred.pid) : PeerPidfd(fd);
  if (!pidfd.ok() && source == PidfdSource::kAuto) {
    // Kernels before 6.5 answer ENOPROTOOPT.
    pidfd = Pidfd::Open(cred.pid);
  }
  if (!pidfd.ok()) {
    return absl::FailedPreconditionError(Concat(
        "caller pid ", cred.pid, " has no pidfd (gone already?): ", pidfd.status().message()));
  }
  peer.pidfd = *std::move(pidfd);
  if (!peer.pidfd.IsAlive()) {
    return absl::FailedPreconditionError(Concat("caller pid ", cred.pid, " exited at connect"));
  }
  return peer;
}

absl::Status VerifyPinned(const Pidfd& pidfd, const std::string& proc_root, pid_t pid,
                          uint64_t expected_start_time) {
  absl::StatusOr<uint64_t> start_time = ReadStartTime(proc_root, pid);
  if (!start_time.ok() || *start_time != expected_start_time || !pidfd.IsAlive()) {
    return absl::UnauthenticatedError("could not verify existence of the original caller");
  }
  return absl::OkStatus();
}

}  // namespace reattest
