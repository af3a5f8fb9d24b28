#include "common/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <climits>

#include "common/strings.h"

namespace reattest {
namespace {

// glibc 2.36's <sys/pidfd.h> declares pidfd_open without extern "C", so C++ cannot
// link against it; the raw system call is stable and simple.
int PidfdOpen(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

}  // namespace

Pidfd& Pidfd::operator=(Pidfd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) {
      close(fd_);
    }
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

Pidfd::~Pidfd() {
  if (fd_ >= 0) {
    close(fd_);
  }
}

absl::StatusOr<Pidfd> Pidfd::Open(pid_t pid) {
  int fd = PidfdOpen(pid);
  if (fd < 0) {
    return absl::ErrnoToStatus(errno, Concat("pidfd_open(", pid, ")"));
  }
  return Pidfd(fd);
}

bool Pidfd::IsAlive() const {
  if (fd_ < 0) {
    return false;
  }
  // A pidfd polls readable once its process has exited. Sending signal 0
  // would not do: it succeeds on a zombie, whose PID and start time also
  // still look like the pinned caller's until its parent reaps it.
  pollfd poll_fd{.fd = fd_, .events = POLLIN, .revents = 0};
  int ready;
  do {
    ready = poll(&poll_fd, 1, 0);
  } while (ready < 0 && errno == EINTR);
  // A failed poll counts as exited: pinning must fail closed.
  return ready == 0;
}

absl::StatusOr<std::string> ReadSmallFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::ErrnoToStatus(errno, Concat("open ", path));
  }
  std::string contents;
  char buf[4096];
  while (true) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      int err = errno;
      close(fd);
      return absl::ErrnoToStatus(err, Concat("read ", path));
    }
    if (n == 0) {
      break;
    }
    contents.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return contents;
}

absl::StatusOr<std::string> ReadLink(const std::string& path) {
  char target[PATH_MAX];
  ssize_t size = readlink(path.c_str(), target, sizeof(target));
  if (size < 0) {
    return absl::ErrnoToStatus(errno, Concat("readlink ", path));
  }
  // readlink(2) truncates silently; a full buffer may be a cut-off path.
  if (static_cast<size_t>(size) == sizeof(target)) {
    return absl::OutOfRangeError(Concat("readlink ", path, ": target longer than PATH_MAX"));
  }
  return std::string(target, static_cast<size_t>(size));
}

bool IsInitialPidNamespace(std::string_view ns_link) {
  // PROC_PID_INIT_INO (include/linux/proc_ns.h), the same on every kernel since 3.8.
  return ns_link == "pid:[4026531836]";
}

absl::StatusOr<uint64_t> ParseStartTime(std::string_view stat) {
  size_t paren = stat.rfind(')');
  if (paren == std::string_view::npos) {
    return absl::InvalidArgumentError("stat has no ')' after the command name");
  }
  // After ") " come fields 3 (state), 4, ...: field 22 is the 20th of them.
  std::vector<std::string_view> fields = Split(stat.substr(paren + 1), " ");
  constexpr size_t kStartTimeIndex = 22 - 3;
  uint64_t start_time = 0;
  if (fields.size() <= kStartTimeIndex || !ParseInteger(fields[kStartTimeIndex], start_time)) {
    return absl::InvalidArgumentError("stat has no start time in field 22");
  }
  return start_time;
}

absl::StatusOr<uint64_t> ReadStartTime(const std::string& proc_root, pid_t pid) {
  absl::StatusOr<std::string> stat = ReadSmallFile(Concat(proc_root, "/", pid, "/stat"));
  if (!stat.ok()) {
    return stat.status();
  }
  return ParseStartTime(*stat);
}

namespace {

// `Uid:\treal\teffective\tsaved\tfs`: the effective ID is the second number.
bool ParseEffectiveId(std::string_view rest, uint32_t& id) {
  std::vector<std::string_view> ids = Split(rest, " \t");
  return ids.size() >= 2 && ParseInteger(ids[1], id);
}

}  // namespace

absl::StatusOr<ProcStatus> ParseProcStatus(std::string_view contents) {
  ProcStatus status;
  bool have_uid = false;
  bool have_gid = false;
  for (std::string_view line : Split(contents, "\n")) {
    if (line.starts_with("Uid:")) {
      have_uid = ParseEffectiveId(line.substr(4), status.uid);
    } else if (line.starts_with("Gid:")) {
      have_gid = ParseEffectiveId(line.substr(4), status.gid);
    } else if (line.starts_with("Groups:")) {
      for (std::string_view group : Split(line.substr(7), " \t")) {
        gid_t gid = 0;
        if (!ParseInteger(group, gid)) {
          return absl::InvalidArgumentError(Concat("status has a bad Groups entry: ", group));
        }
        status.supplementary_gids.push_back(gid);
      }
    }
  }
  if (!have_uid || !have_gid) {
    return absl::InvalidArgumentError("status lacks Uid: or Gid: lines");
  }
  return status;
}

absl::StatusOr<ProcStatus> ReadProcStatus(const std::string& proc_root, pid_t pid) {
  absl::StatusOr<std::string> contents = ReadSmallFile(Concat(proc_root, "/", pid, "/status"));
  if (!contents.ok()) {
    return contents.status();
  }
  return ParseProcStatus(*contents);
}

double SecondsSinceBoot() {
  timespec ts;
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double ProcessAgeSeconds(uint64_t start_time_ticks) {
  static const long kTicksPerSecond = sysconf(_SC_CLK_TCK);
  return SecondsSinceBoot() -
         static_cast<double>(start_time_ticks) / static_cast<double>(kTicksPerSecond);
}

}  // namespace reattest
