// Files that must survive a crash intact: the local CA's key and certificate.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace reattest::identity {

// Creates `dir` with mode 0700 unless it already exists; its parent must exist.
// An existing directory keeps its mode.
absl::Status EnsurePrivateDirectory(const std::string& dir);

// Replaces `path` with `contents` so that a crash at any point leaves either
// the old file or the complete new one: writes a temporary file in the same
// directory with `mode`, fsyncs it, renames it over `path`, then fsyncs the
// directory so the rename itself is durable. Errors carry the path and errno.
absl::Status WriteFileDurably(const std::string& path, std::string_view contents, mode_t mode);

}  // namespace reattest::identity
