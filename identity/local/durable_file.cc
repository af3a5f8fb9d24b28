#include "identity/local/durable_file.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "common/strings.h"

namespace reattest::identity {
namespace {

std::string DirectoryOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) {
    return ".";
  }
  return slash == 0 ? "/" : path.substr(0, slash);
}

absl::Status WriteAll(int fd, const std::string& name, std::string_view contents) {
  while (!contents.empty()) {
    ssize_t written = write(fd, contents.data(), contents.size());
    if (written < 0 && errno == EINTR) {
      continue;
    }
    if (written < 0) {
      return absl::ErrnoToStatus(errno, Concat("write ", name));
    }
    contents.remove_prefix(static_cast<size_t>(written));
  }
  return absl::OkStatus();
}

// Sets the mode, writes and fsyncs; closes `fd` whatever happens.
absl::Status FillAndClose(int fd, const std::string& name, std::string_view contents, mode_t mode) {
  absl::Status status;
  if (fchmod(fd, mode) != 0) {
    status = absl::ErrnoToStatus(errno, Concat("chmod ", name));
  }
  if (status.ok()) {
    status = WriteAll(fd, name, contents);
  }
  if (status.ok() && fsync(fd) != 0) {
    status = absl::ErrnoToStatus(errno, Concat("fsync ", name));
  }
  if (close(fd) != 0 && status.ok()) {
    status = absl::ErrnoToStatus(errno, Concat("close ", name));
  }
  return status;
}

absl::Status SyncDirectory(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return absl::ErrnoToStatus(errno, Concat("open ", dir));
  }
  absl::Status status;
  if (fsync(fd) != 0) {
    status = absl::ErrnoToStatus(errno, Concat("fsync ", dir));
  }
  close(fd);
  return status;
}

}  // namespace

absl::Status EnsurePrivateDirectory(const std::string& dir) {
  if (mkdir(dir.c_str(), 0700) == 0) {
    return absl::OkStatus();
  }
  int error = errno;
  struct stat info;
  if (error == EEXIST && stat(dir.c_str(), &info) == 0 && S_ISDIR(info.st_mode)) {
    return absl::OkStatus();
  }
  return absl::ErrnoToStatus(error == EEXIST ? ENOTDIR : error, Concat("mkdir ", dir));
}

absl::Status WriteFileDurably(const std::string& path, std::string_view contents, mode_t mode) {
  // mkstemp creates the file with mode 0600, so a key is never readable by others.
  std::string temp = Concat(path, ".tmp.XXXXXX");
  int fd = mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0) {
    return absl::ErrnoToStatus(errno, Concat("create ", temp));
  }
  absl::Status status = FillAndClose(fd, temp, contents, mode);
  if (status.ok() && rename(temp.c_str(), path.c_str()) != 0) {
    status = absl::ErrnoToStatus(errno, Concat("rename ", temp, " to ", path));
  }
  if (!status.ok()) {
    unlink(temp.c_str());
    return status;
  }
  return SyncDirectory(DirectoryOf(path));
}

}  // namespace reattest::identity
