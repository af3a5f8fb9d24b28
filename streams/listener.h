// The Unix socket that every API is served on (SPEC section 4): created with
// its directory, a stale file replaced, a second instance refused; accepted
// on the loop so each caller's credentials are read from the kernel before
// gRPC sees the connection.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/log.h"
#include "common/peer.h"
#include "supervisor/connection.h"
#include "supervisor/event_loop.h"

namespace reattest::streams {

class Listener {
 public:
  // Called on the loop for every accepted caller, with the connection's
  // descriptor, which the callee takes over.
  using AcceptHandler = std::function<void(int fd, supervisor::ConnectionInfo info)>;

  // Binds `path` (mode `mode`), creating its directory (0755) if missing.
  // Fails if another live agent already listens there.
  static absl::StatusOr<std::unique_ptr<Listener>> Bind(supervisor::EventLoop& loop,
                                                        const std::string& path, mode_t mode,
                                                        PidfdSource pidfd_source);
  ~Listener();

  // Loop thread.
  void Start(AcceptHandler on_accept);
  // Loop thread. Stops accepting, closes the socket and removes its file.
  void Close();

 private:
  Listener(supervisor::EventLoop& loop, int fd, std::string path, PidfdSource pidfd_source);
  void AcceptPending();

  supervisor::EventLoop& loop_;
  int fd_;
  std::string path_;
  PidfdSource pidfd_source_;
  std::unique_ptr<supervisor::FdWatch> watch_;
  AcceptHandler on_accept_;
  uint64_t next_connection_id_ = 1;
  log::Logger log_{"streams"};
};

}  // namespace reattest::streams
