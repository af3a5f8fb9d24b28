// Who is on the other end of a Unix socket, from the kernel (SPEC section 3,
// pinning). Plain syscalls: safe to call on the event loop.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "common/process.h"

namespace reattest {

// How to get the pidfd of a caller. SO_PEERPIDFD names exactly the process
// that connected; pidfd_open(pid) is the fallback for kernels before 6.5 and
// can race with PID reuse, which the start-time check catches.
enum class PidfdSource { kAuto, kPeerPidfd, kPidfdOpen };

struct PeerCredentials {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  Pidfd pidfd;
};

// Reads SO_PEERCRED and a pidfd for the peer of the connected socket `fd`.
// kAuto tries SO_PEERPIDFD and falls back to pidfd_open on ENOPROTOOPT.
// A peer with PID 0 (in a PID namespace we cannot see) or already gone is an
// error: such a caller cannot be attested.
absl::StatusOr<PeerCredentials> ReadPeerCredentials(int fd, PidfdSource source);

// After an attestation: is the pinned process still the one that connected?
// Reads the start time (blocking /proc read: thread pool only) and then
// checks the pidfd, so a PID reused during the read is caught either way.
absl::Status VerifyPinned(const Pidfd& pidfd, const std::string& proc_root, pid_t pid,
                          uint64_t expected_start_time);

}  // namespace reattest
