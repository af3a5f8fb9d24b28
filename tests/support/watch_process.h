// `reattest api watch` (or another watching client) in a child process,
// optionally placed in another process's cgroups first, with its output
// collected for the test.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace reattest::testing {

class WatchProcess {
 public:
  // The child joins the cgroups listed in `cgroup_procs_files` (see
  // CgroupProcsFilesOf) before it execs, so its very first connection
  // already comes from inside them.
  WatchProcess(const std::string& socket_path,
               const std::vector<std::string>& cgroup_procs_files = {});
  // Any other watching program: `args` is its argv, the binary's path first.
  WatchProcess(std::vector<std::string> args, const std::vector<std::string>& cgroup_procs_files);
  ~WatchProcess();
  WatchProcess(const WatchProcess&) = delete;
  WatchProcess& operator=(const WatchProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Waits until the output holds `needle` `count` times.
  bool WaitFor(const std::string& needle, std::chrono::milliseconds timeout, int count = 1);
  // Number of `update N` lines so far: messages received on the stream.
  int updates();
  std::string output();

 private:
  void Collect(int fd);

  pid_t pid_ = -1;
  std::thread reader_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::string output_;  // guarded by mutex_
};

}  // namespace reattest::testing
