#include "streams/connection_registry.h"

#include "common/strings.h"

namespace reattest::streams {

void ConnectionRegistry::Add(int fd, supervisor::ConnectionInfo info) {
  std::lock_guard<std::mutex> lock(mutex_);
  by_fd_[fd] = std::move(info);
}

std::optional<supervisor::ConnectionInfo> ConnectionRegistry::Lookup(
    const std::string& peer) const {
  constexpr std::string_view kPrefix = "fd:";
  int fd = -1;
  if (!peer.starts_with(kPrefix) ||
      !ParseInteger(std::string_view(peer).substr(kPrefix.size()), fd)) {
    return std::nullopt;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = by_fd_.find(fd);
  if (it == by_fd_.end()) {
    return std::nullopt;
  }
  return it->second;
}

}  // namespace reattest::streams
