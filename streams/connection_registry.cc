#include "streams/connection_registry.h"

#include <sys/stat.h>

#include "common/strings.h"

namespace reattest::streams {

namespace {

ino_t InodeOf(int fd) {
  struct stat st {};
  return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) ? st.st_ino : 0;
}

}  // namespace

std::optional<supervisor::ConnectionInfo> ConnectionRegistry::Add(int fd,
                                                                  supervisor::ConnectionInfo info) {
  Entry entry{std::move(info), InodeOf(fd)};
  std::lock_guard<std::mutex> lock(mutex_);
  std::optional<supervisor::ConnectionInfo> displaced;
  if (auto it = by_fd_.find(fd); it != by_fd_.end()) {
    displaced = std::move(it->second.info);
  }
  by_fd_[fd] = std::move(entry);
  return displaced;
}

std::vector<supervisor::ConnectionInfo> ConnectionRegistry::SweepClosed() {
  std::vector<supervisor::ConnectionInfo> closed;
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = by_fd_.begin(); it != by_fd_.end();) {
    if (InodeOf(it->first) != it->second.inode) {
      closed.push_back(std::move(it->second.info));
      it = by_fd_.erase(it);
    } else {
      ++it;
    }
  }
  return closed;
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
  return it->second.info;
}

}  // namespace reattest::streams
