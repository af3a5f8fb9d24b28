// Putting a test process into another process's cgroups, so attestors see
// it as a container's process (tests run as root).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace reattest::testing {

// The cgroup.procs file of every cgroup `pid` belongs to (cgroup v1
// hierarchies and v2), found through /proc/self/mountinfo. Writing "0" to
// each moves the writing process into the same cgroups.
std::vector<std::string> CgroupProcsFilesOf(pid_t pid);

}  // namespace reattest::testing
