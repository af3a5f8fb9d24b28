// Facts about a local process read from the kernel, and the pidfd that pins
// one process for the lifetime of its connections (SPEC section 3).
//
// The /proc readers block on the filesystem and must run on the thread pool,
// never on the event loop. Pidfd methods are plain syscalls and may run anywhere.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace reattest {

// Owns a pidfd: a descriptor naming one process (not a PID number, which the
// kernel reuses). Move-only.
class Pidfd {
 public:
  Pidfd() = default;
  explicit Pidfd(int fd) : fd_(fd) {}
  Pidfd(Pidfd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Pidfd& operator=(Pidfd&& other) noexcept;
  Pidfd(const Pidfd&) = delete;
  Pidfd& operator=(const Pidfd&) = delete;
  ~Pidfd();

  // pidfd_open(2): the fallback when SO_PEERPIDFD is unavailable. Racy by
  // nature (the PID may already name another process), which is why callers
  // also compare the start time.
  static absl::StatusOr<Pidfd> Open(pid_t pid);

  int fd() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // False once the process has exited (even before it is reaped).
  bool IsAlive() const;

 private:
  int fd_ = -1;
};

// Field 22 of /proc/PID/stat (start time in clock ticks since boot), parsed
// after the last ')' because the command name may hold spaces and parens.
absl::StatusOr<uint64_t> ReadStartTime(const std::string& proc_root, pid_t pid);
// Same, from the file's contents; exposed for tests.
absl::StatusOr<uint64_t> ParseStartTime(std::string_view stat_contents);

// The effective IDs of /proc/PID/status (`Uid:`, `Gid:`, `Groups:` lines).
struct ProcStatus {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> supplementary_gids;
};
absl::StatusOr<ProcStatus> ReadProcStatus(const std::string& proc_root, pid_t pid);
absl::StatusOr<ProcStatus> ParseProcStatus(std::string_view status_contents);

// Reads a small file whole (procfs and cgroupfs files report size 0, so this
// reads until EOF). Errors carry the path and errno.
absl::StatusOr<std::string> ReadSmallFile(const std::string& path);

// The target of the symbolic link at `path` (readlink(2)); a target longer
// than PATH_MAX is an error rather than silently cut.
absl::StatusOr<std::string> ReadLink(const std::string& path);

// Whether `ns_link`, the target of /proc/self/ns/pid (`pid:[4026531836]`),
// names the initial PID namespace: the host's, whose inode the kernel fixes
// at PROC_PID_INIT_INO. A container without hostPID: true is in another one,
// and so is every process of a nested cluster node (kind), host PID or not.
bool IsInitialPidNamespace(std::string_view ns_link);

// Seconds since boot, from CLOCK_BOOTTIME, comparable with start times.
double SecondsSinceBoot();
// The process's age in seconds given its start time in clock ticks.
double ProcessAgeSeconds(uint64_t start_time_ticks);

}  // namespace reattest
