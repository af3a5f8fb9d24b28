// Maps the descriptor of each accepted connection to what the kernel said
// about its caller. gRPC names a connection handed over by descriptor as
// `fd:N` in ServerContext::peer(), which is how a handler finds its caller.
// Thread-safe: written by the loop at accept, read by gRPC threads.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "supervisor/connection.h"

namespace reattest::streams {

class ConnectionRegistry {
 public:
  // A new connection on `fd` replaces whatever an earlier, closed connection
  // on the same descriptor number left behind.
  void Add(int fd, supervisor::ConnectionInfo info);
  // `peer` as gRPC reports it (`fd:N`).
  std::optional<supervisor::ConnectionInfo> Lookup(const std::string& peer) const;

 private:
  mutable std::mutex mutex_;
  // TODO: entries of closed connections linger (holding a pidfd each) until
  // their descriptor number is reused, because gRPC does not report a
  // closed connection; the map is bounded by the highest descriptor number.
  std::unordered_map<int, supervisor::ConnectionInfo> by_fd_;  // guarded by mutex_
};

}  // namespace reattest::streams
