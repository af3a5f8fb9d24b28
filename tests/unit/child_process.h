// Real child processes for tests that attest or pin a live process.
//
// Forking is safe here because the unit test binary is single-threaded. The
// child runs only plain system calls between fork and its ready report.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace reattest::testing {

// One forked child, killed and reaped when the object dies.
class ChildProcess {
 public:
  // Forks a child that runs `setup` (drop privileges, connect, ...) and then
  // blocks reading a pipe until this object is destroyed. Blocking on a pipe
  // rather than pausing means the child also exits if the test binary dies,
  // whatever credentials it took. ready() is false when `setup` failed.
  static std::unique_ptr<ChildProcess> Block(const std::function<bool()>& setup) {
    int ready[2];
    int release[2];
    if (pipe2(ready, O_CLOEXEC) != 0 || pipe2(release, O_CLOEXEC) != 0) {
      return nullptr;
    }
    pid_t pid = fork();
    if (pid == 0) {
      close(ready[0]);
      close(release[1]);
      if (!setup() || write(ready[1], "r", 1) != 1) {
        _exit(1);
      }
      char byte;
      while (read(release[0], &byte, 1) < 0 && errno == EINTR) {
      }
      _exit(0);
    }
    close(ready[1]);
    close(release[0]);
    return Started(pid, ready[0], release[1], /*ready_on_eof=*/false);
  }

  // Forks and execs `argv` (argv[0] an absolute path). ready() is true once
  // the exec succeeded: the close-on-exec pipe then reads end-of-file, without
  // the byte the child writes when exec fails.
  static std::unique_ptr<ChildProcess> Exec(const std::vector<std::string>& argv) {
    std::vector<char*> args;
    for (const std::string& arg : argv) {
      args.push_back(const_cast<char*>(arg.c_str()));
    }
    args.push_back(nullptr);

    int ready[2];
    if (pipe2(ready, O_CLOEXEC) != 0) {
      return nullptr;
    }
    pid_t pid = fork();
    if (pid == 0) {
      close(ready[0]);
      // The exec'd program does not read our pipe; this ends it with the test binary.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      execv(args[0], args.data());
      (void)!write(ready[1], "e", 1);
      _exit(127);
    }
    close(ready[1]);
    return Started(pid, ready[0], /*release_fd=*/-1, /*ready_on_eof=*/true);
  }

  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  ~ChildProcess() {
    if (release_fd_ >= 0) {
      close(release_fd_);
    }
    if (!reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  pid_t pid() const { return pid_; }
  bool ready() const { return ready_; }

  // Kills the child and waits until it has exited, but leaves it a zombie:
  // its /proc entry, start time and PID stay until it is reaped.
  void KillAndWaitExit() {
    kill(pid_, SIGKILL);
    siginfo_t info{};
    waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT);
  }

  // Kills the child and reaps it, so its PID names no process any more.
  void KillAndReap() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    reaped_ = true;
  }

 private:
  ChildProcess(pid_t pid, int release_fd) : pid_(pid), release_fd_(release_fd) {}

  // Blocks until the child reports (a byte) or the pipe closes (end-of-file),
  // which also happens when the child dies, so this cannot hang.
  static std::unique_ptr<ChildProcess> Started(pid_t pid, int ready_fd, int release_fd,
                                               bool ready_on_eof) {
    if (pid < 0) {
      close(ready_fd);
      if (release_fd >= 0) {
        close(release_fd);
      }
      return nullptr;
    }
    std::unique_ptr<ChildProcess> child(new ChildProcess(pid, release_fd));
    char byte = 0;
    ssize_t n;
    do {
      n = read(ready_fd, &byte, 1);
    } while (n < 0 && errno == EINTR);
    close(ready_fd);
    child->ready_ = ready_on_eof ? n == 0 : n == 1;
    return child;
  }

  pid_t pid_;
  int release_fd_;
  bool ready_ = false;
  bool reaped_ = false;
};

}  // namespace reattest::testing
