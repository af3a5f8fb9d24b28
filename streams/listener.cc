#include "streams/listener.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "common/strings.h"

namespace reattest::streams {
namespace {

absl::StatusOr<sockaddr_un> UnixAddress(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError(
        Concat("socket path ", path, " is longer than ", sizeof(addr.sun_path) - 1, " bytes"));
  }
  path.copy(addr.sun_path, path.size());
  return addr;
}

// A socket file nobody answers on is stale (an agent that crashed); one that
// accepts a connection belongs to a running agent.
bool SomeoneListens(const sockaddr_un& addr) {
  int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (probe < 0) {
    return false;
  }
  bool answered = connect(probe, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
  close(probe);
  return answered;
}

absl::Status PrepareDirectory(const std::string& path) {
  std::filesystem::path directory = std::filesystem::path(path).parent_path();
  std::error_code error;
  if (std::filesystem::exists(directory, error)) {
    return absl::OkStatus();
  }
  std::filesystem::create_directories(directory, error);
  if (error) {
    return absl::InternalError(
        Concat("cannot create socket directory ", directory.string(), ": ", error.message()));
  }
  chmod(directory.c_str(), 0755);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Listener>> Listener::Bind(supervisor::EventLoop& loop,
                                                         const std::string& path, mode_t mode,
                                                         PidfdSource pidfd_source) {
  absl::StatusOr<sockaddr_un> addr = UnixAddress(path);
  if (!addr.ok()) {
    return addr.status();
  }
  if (absl::Status status = PrepareDirectory(path); !status.ok()) {
    return status;
  }
  if (SomeoneListens(*addr)) {
    return absl::AlreadyExistsError(
        Concat("another agent is already serving on ", path, "; refusing to start"));
  }
  unlink(path.c_str());

  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return absl::ErrnoToStatus(errno, "socket(AF_UNIX)");
  }
  if (bind(fd, reinterpret_cast<const sockaddr*>(&*addr), sizeof(*addr)) != 0 ||
      chmod(path.c_str(), mode) != 0 || listen(fd, SOMAXCONN) != 0) {
    int err = errno;
    close(fd);
    return absl::ErrnoToStatus(err, Concat("cannot listen on ", path));
  }
  return std::unique_ptr<Listener>(new Listener(loop, fd, path, pidfd_source));
}

Listener::Listener(supervisor::EventLoop& loop, int fd, std::string path, PidfdSource pidfd_source)
    : loop_(loop), fd_(fd), path_(std::move(path)), pidfd_source_(pidfd_source) {}

Listener::~Listener() { Close(); }

void Listener::Start(AcceptHandler on_accept) {
  on_accept_ = std::move(on_accept);
  watch_ = std::make_unique<supervisor::FdWatch>(loop_, fd_);
  watch_->StartReadable([this] { AcceptPending(); });
}

void Listener::Close() {
  if (fd_ < 0) {
    return;
  }
  watch_.reset();
  close(fd_);
  fd_ = -1;
  unlink(path_.c_str());
}

void Listener::AcceptPending() {
  while (fd_ >= 0) {
    int conn = accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (conn < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        log_.Warn("accept failed", {{"error", std::string(strerror(errno))}});
      }
      return;
    }
    absl::StatusOr<PeerCredentials> peer = ReadPeerCredentials(conn, pidfd_source_);
    if (!peer.ok()) {
      // Nothing can be attested about such a caller: close at once.
      log_.Info("closing connection from an unidentifiable caller",
                {{"reason", std::string(peer.status().message())}});
      close(conn);
      continue;
    }
    supervisor::ConnectionInfo info{next_connection_id_++, peer->pid, peer->uid, peer->gid,
                                    std::make_shared<const Pidfd>(std::move(peer->pidfd))};
    on_accept_(conn, std::move(info));
  }
}

}  // namespace reattest::streams
