// Maps the descriptor of each accepted connection to what the kernel said
// about its caller. gRPC names a connection handed over by descriptor as
// `fd:N` in ServerContext::peer(), which is how a handler finds its caller.
// Thread-safe: written by the loop at accept, read by gRPC threads.
#pragma once

#include <sys/types.h>

#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "supervisor/connection.h"

namespace reattest::streams {

class ConnectionRegistry {
 public:
  // A new connection on `fd` replaces whatever an earlier, closed connection
  // on the same descriptor number left behind, which is returned.
  std::optional<supervisor::ConnectionInfo> Add(int fd, supervisor::ConnectionInfo info);
  // `peer` as gRPC reports it (`fd:N`).
  std::optional<supervisor::ConnectionInfo> Lookup(const std::string& peer) const;

  // gRPC does not report closed connections. A descriptor that no longer
  // names the socket accepted on it (closed, or reused for something else)
  // means its connection closed: those entries are removed and returned.
  std::vector<supervisor::ConnectionInfo> SweepClosed();

 private:
  struct Entry {
    supervisor::ConnectionInfo info;
    ino_t inode = 0;  // of the accepted socket
  };

  mutable std::mutex mutex_;
  std::unordered_map<int, Entry> by_fd_;  // guarded by mutex_
};

}  // namespace reattest::streams
