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

// A hand-made cgroup at the same `path` (`/kubepods/besteffort/pod<uid>/<id>`)
// in every mounted hierarchy, cgroup v1 and v2, as a kubelet with the
// cgroupfs driver makes for a container. Removed leaf first at scope end;
// processes still inside must have exited by then.
class HandMadeCgroup {
 public:
  explicit HandMadeCgroup(const std::string& path);
  ~HandMadeCgroup();
  HandMadeCgroup(const HandMadeCgroup&) = delete;
  HandMadeCgroup& operator=(const HandMadeCgroup&) = delete;

  // False when some hierarchy refused the cgroup (not root, read-only mount).
  bool ok() const { return ok_; }
  // The cgroup.procs file of each hierarchy, for WatchProcess.
  const std::vector<std::string>& procs_files() const { return procs_files_; }

 private:
  bool ok_ = true;
  std::vector<std::string> procs_files_;
  // Every directory made, parents before children.
  std::vector<std::string> made_;
};

}  // namespace reattest::testing
