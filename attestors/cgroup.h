// Parsing of /proc/PID/cgroup (SPEC section 2, "Cgroup parsing"): which
// container and which Kubernetes pod a process belongs to, as far as its
// cgroup paths tell. Shared by the docker and k8s attestors.
//
// Pure functions of the file's text: no I/O, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace reattest::attestors {

struct CgroupInfo {
  // Which runtime the container's path segment names.
  enum class Runtime {
    kNone,        // no container ID found
    kDocker,      // `/docker/<id>` (cgroupfs) or `docker-<id>.scope` (systemd)
    kContainerd,  // `cri-containerd-<id>.scope`
    kCrio,        // `crio-<id>.scope`
    kLibpod,      // `libpod-<id>.scope` (podman)
    // A bare `<id>` segment under any other parent: dockershim or containerd
    // with the cgroupfs driver (`/kubepods/besteffort/pod<uid>/<id>`), or a
    // runtime we do not know. The path alone cannot tell which.
    kDockershimOrOther,
  };

  // Exactly 64 hex digits as written in the path; empty when none was found.
  std::string container_id;
  Runtime runtime = Runtime::kNone;
  // From a `pod<uid>` segment, with `_` separators turned into `-`; empty
  // when none was found.
  std::string pod_uid;
  // Some path has a segment starting with `kubepods` (cgroupfs `kubepods`,
  // systemd `kubepods.slice`, `kubepods-besteffort.slice`, ...).
  bool under_kubepods = false;
};

// Parses the whole of /proc/PID/cgroup: every `hierarchy-ID:controllers:path`
// line, cgroup v1 and v2 alike. Malformed lines are skipped. Each path is
// walked from the leaf up and its first segment that names a container
// (64 hex digits, with an optional runtime prefix and `.scope` suffix) is
// taken; `..` segments (an agent in a private cgroup namespace) are just
// segments that name nothing.
//
// Errors (InvalidArgument): two lines name different container IDs, or
// different pod UIDs. The process cannot be attributed to one container, so
// callers treat it as `soft_error`.
absl::StatusOr<CgroupInfo> ParseCgroups(std::string_view proc_pid_cgroup);

}  // namespace reattest::attestors
