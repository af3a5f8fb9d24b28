// Pinning (SPEC section 3) against real processes and real Unix sockets: a
// caller pinned at connect verifies while it lives and stops verifying once it
// has exited or its PID names another process, whichever way its pidfd came.
#include <grp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <functional>
#include <memory>
#include <string>

#include "common/peer.h"
#include "common/process.h"
#include "tests/unit/child_process.h"

#ifndef SO_PEERPIDFD
// Linux 6.5; missing from Debian 12's kernel headers.
#define SO_PEERPIDFD 77
#endif

namespace reattest {
namespace {

using testing::ChildProcess;

// The child takes IDs of its own, so the test can tell its credentials from ours.
constexpr uid_t kChildUid = 1234;
constexpr gid_t kChildGid = 2345;

// Closes a descriptor on every exit path of a test, failed REQUIREs included.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) {
      close(fd_);
    }
  }

  int get() const { return fd_; }

 private:
  int fd_;
};

// A listening socket at an abstract address the kernel picks (autobind):
// nothing on disk and no clash with a test running in parallel.
class Listener {
 public:
  Listener() : fd_(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    bound_ = bind(fd_.get(), reinterpret_cast<sockaddr*>(&address), sizeof(sa_family_t)) == 0 &&
             listen(fd_.get(), 1) == 0 &&
             getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&address_), &address_size_) == 0;
  }

  bool bound() const { return bound_; }

  // Runs in the child: the connection stays open until the child exits.
  bool Connect() const {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    return fd >= 0 && connect(fd, reinterpret_cast<const sockaddr*>(&address_), address_size_) == 0;
  }

  int Accept() const { return accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC); }

 private:
  Fd fd_;
  sockaddr_un address_{};
  socklen_t address_size_ = sizeof(address_);
  bool bound_ = false;
};

// Kernels before 6.5 answer ENOPROTOOPT; a socketpair is enough to ask.
bool KernelHasPeerPidfd() {
  int pair[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
  Fd a(pair[0]);
  Fd b(pair[1]);
  int pidfd = -1;
  socklen_t size = sizeof(pidfd);
  if (getsockopt(a.get(), SOL_SOCKET, SO_PEERPIDFD, &pidfd, &size) != 0) {
    REQUIRE(errno == ENOPROTOOPT);
    return false;
  }
  close(pidfd);
  return true;
}

// Runs `check` once per way of getting a caller's pidfd, each in its own section.
void ForEachPidfdSource(const std::function<void(PidfdSource)>& check) {
  SECTION("pidfd from SO_PEERPIDFD") {
    if (!KernelHasPeerPidfd()) {
      WARN("kernel lacks SO_PEERPIDFD (ENOPROTOOPT); section skipped");
      return;
    }
    check(PidfdSource::kPeerPidfd);
  }
  SECTION("pidfd from pidfd_open") { check(PidfdSource::kPidfdOpen); }
}

// A child that dropped to kChildUid/kChildGid and connected, pinned the way
// the supervisor pins a caller at accept.
struct PinnedChild {
  std::unique_ptr<ChildProcess> child;
  PeerCredentials peer;
  uint64_t start_time = 0;
};

PinnedChild ConnectAndPin(PidfdSource source) {
  Listener listener;
  REQUIRE(listener.bound());
  PinnedChild pinned;
  pinned.child = ChildProcess::Block([&] {
    return setgroups(0, nullptr) == 0 && setgid(kChildGid) == 0 && setuid(kChildUid) == 0 &&
           listener.Connect();
  });
  REQUIRE(pinned.child != nullptr);
  REQUIRE(pinned.child->ready());

  // The accepted socket may close once the credentials are read: the kernel
  // keeps the pidfd and the process, not the connection, is what is pinned.
  Fd connection(listener.Accept());
  REQUIRE(connection.get() >= 0);
  absl::StatusOr<PeerCredentials> peer = ReadPeerCredentials(connection.get(), source);
  REQUIRE(peer.ok());
  pinned.peer = *std::move(peer);

  absl::StatusOr<uint64_t> start_time = ReadStartTime("/proc", pinned.peer.pid);
  REQUIRE(start_time.ok());
  pinned.start_time = *start_time;
  return pinned;
}

absl::Status Verify(const PinnedChild& pinned, uint64_t expected_start_time) {
  return VerifyPinned(pinned.peer.pidfd, "/proc", pinned.peer.pid, expected_start_time);
}

void CheckNotVerified(const absl::Status& status) {
  CHECK(status.code() == absl::StatusCode::kUnauthenticated);
  CHECK(std::string(status.message()) == "could not verify existence of the original caller");
}

TEST_CASE("A caller is pinned with its own PID, UID and GID and verifies while it lives",
          "[pinning]") {
  ForEachPidfdSource([](PidfdSource source) {
    PinnedChild pinned = ConnectAndPin(source);

    CHECK(pinned.peer.pid == pinned.child->pid());
    CHECK(pinned.peer.uid == kChildUid);
    CHECK(pinned.peer.gid == kChildGid);
    CHECK(pinned.peer.pidfd.valid());
    CHECK(pinned.peer.pidfd.IsAlive());
    CHECK(Verify(pinned, pinned.start_time).ok());
  });
}

TEST_CASE("A pinned caller that exited and was reaped no longer verifies", "[pinning]") {
  ForEachPidfdSource([](PidfdSource source) {
    PinnedChild pinned = ConnectAndPin(source);
    REQUIRE(Verify(pinned, pinned.start_time).ok());

    pinned.child->KillAndReap();

    CHECK_FALSE(pinned.peer.pidfd.IsAlive());
    CheckNotVerified(Verify(pinned, pinned.start_time));
  });
}

TEST_CASE("A pinned caller that exited no longer verifies even before it is reaped", "[pinning]") {
  // A zombie keeps its /proc entry and start time, so only the pidfd can tell.
  ForEachPidfdSource([](PidfdSource source) {
    PinnedChild pinned = ConnectAndPin(source);
    REQUIRE(Verify(pinned, pinned.start_time).ok());

    pinned.child->KillAndWaitExit();

    REQUIRE(ReadStartTime("/proc", pinned.peer.pid).ok());
    CHECK_FALSE(pinned.peer.pidfd.IsAlive());
    CheckNotVerified(Verify(pinned, pinned.start_time));
  });
}

TEST_CASE("A pinned PID whose start time differs does not verify, as after PID reuse",
          "[pinning]") {
  ForEachPidfdSource([](PidfdSource source) {
    PinnedChild pinned = ConnectAndPin(source);

    CheckNotVerified(Verify(pinned, pinned.start_time + 1));
  });
}

}  // namespace
}  // namespace reattest
