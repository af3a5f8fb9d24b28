#include "tests/support/watch_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

namespace reattest::testing {
namespace {

int Occurrences(const std::string& text, const std::string& needle) {
  int count = 0;
  for (size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + needle.size())) {
    ++count;
  }
  return count;
}

}  // namespace

WatchProcess::WatchProcess(const std::string& socket_path,
                           const std::vector<std::string>& cgroup_procs_files)
    : WatchProcess({REATTEST_BINARY, "api", "watch", "--socket", socket_path}, cgroup_procs_files) {
}

WatchProcess::WatchProcess(std::vector<std::string> args,
                           const std::vector<std::string>& cgroup_procs_files) {
  // Everything the child needs is prepared before fork: the test process has
  // gRPC threads, so the child may only make system calls until it execs.
  std::vector<char*> argv;
  for (std::string& arg : args) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return;
  }
  pid_ = fork();
  if (pid_ == 0) {
    for (const std::string& file : cgroup_procs_files) {
      int fd = open(file.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0 || write(fd, "0", 1) != 1) {
        _exit(125);
      }
      close(fd);
    }
    dup2(pipe_fds[1], STDOUT_FILENO);
    dup2(pipe_fds[1], STDERR_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(pipe_fds[1]);
  reader_ = std::thread([this, fd = pipe_fds[0]] { Collect(fd); });
}

WatchProcess::~WatchProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (reader_.joinable()) {
    reader_.join();
  }
}

void WatchProcess::Collect(int fd) {
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) {
    std::lock_guard<std::mutex> lock(mutex_);
    output_.append(buf, static_cast<size_t>(n));
    changed_.notify_all();
  }
  close(fd);
}

bool WatchProcess::WaitFor(const std::string& needle, std::chrono::milliseconds timeout,
                           int count) {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return Occurrences(output_, needle) >= count; });
}

int WatchProcess::updates() {
  std::lock_guard<std::mutex> lock(mutex_);
  return Occurrences(output_, "\nupdate ") + (output_.starts_with("update ") ? 1 : 0);
}

std::string WatchProcess::output() {
  std::lock_guard<std::mutex> lock(mutex_);
  return output_;
}

}  // namespace reattest::testing
