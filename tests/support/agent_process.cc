#include "tests/support/agent_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

#include "tests/support/wait.h"

namespace reattest::testing {
namespace {

// argv and envp for execve, built before fork: the test process runs gRPC
// threads, so between fork and exec the child may not allocate.
class PreparedExec {
 public:
  PreparedExec(const std::vector<std::string>& args, const std::map<std::string, std::string>& env)
      : strings_() {
    strings_.push_back(REATTEST_BINARY);
    strings_.insert(strings_.end(), args.begin(), args.end());
    size_t argc = strings_.size();
    std::map<std::string, std::string> merged;
    for (char** entry = environ; *entry != nullptr; ++entry) {
      std::string text = *entry;
      size_t eq = text.find('=');
      merged[text.substr(0, eq)] = eq == std::string::npos ? "" : text.substr(eq + 1);
    }
    for (const auto& [key, value] : env) {
      merged[key] = value;
    }
    for (const auto& [key, value] : merged) {
      strings_.push_back(key + "=" + value);
    }
    for (size_t i = 0; i < strings_.size(); ++i) {
      (i < argc ? argv_ : envp_).push_back(strings_[i].data());
    }
    argv_.push_back(nullptr);
    envp_.push_back(nullptr);
  }

  [[noreturn]] void Exec() {
    execve(argv_[0], argv_.data(), envp_.data());
    _exit(127);
  }

 private:
  std::vector<std::string> strings_;
  std::vector<char*> argv_;
  std::vector<char*> envp_;
};

}  // namespace

bool SocketAccepts(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

AgentProcess::AgentProcess(const std::string& config_path, const std::string& socket_path,
                           const std::map<std::string, std::string>& env) {
  PreparedExec exec({"run", "--config", config_path}, env);
  pid_ = fork();
  if (pid_ == 0) {
    exec.Exec();
  }
  if (pid_ < 0) {
    throw std::runtime_error("fork failed");
  }
  ready_ = WaitFor([&] {
    int status = 0;
    return waitpid(pid_, &status, WNOHANG) == pid_ ? true : SocketAccepts(socket_path);
  });
  ready_ = ready_ && kill(pid_, 0) == 0 && SocketAccepts(socket_path);
}

AgentProcess::~AgentProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

void AgentProcess::Signal(int signal) const { kill(pid_, signal); }

int AgentProcess::WaitExit(int timeout_ms) {
  int status = 0;
  bool exited = WaitFor([&] { return waitpid(pid_, &status, WNOHANG) == pid_; },
                        std::chrono::milliseconds(timeout_ms));
  if (!exited) {
    return -1;
  }
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int RunReattest(const std::vector<std::string>& args, std::string* output,
                const std::map<std::string, std::string>& env, uid_t run_as) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return -1;
  }
  PreparedExec exec(args, env);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(pipe_fds[1], STDOUT_FILENO);
    dup2(pipe_fds[1], STDERR_FILENO);
    if (run_as != 0 && (setgid(run_as) != 0 || setuid(run_as) != 0)) {
      _exit(126);
    }
    exec.Exec();
  }
  close(pipe_fds[1]);
  char buf[4096];
  ssize_t n;
  while ((n = read(pipe_fds[0], buf, sizeof(buf))) > 0) {
    output->append(buf, static_cast<size_t>(n));
  }
  close(pipe_fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace reattest::testing
