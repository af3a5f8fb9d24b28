// Runs the built `reattest` binary as a child process, the way an operator
// would, for end-to-end tests.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace reattest::testing {

class AgentProcess {
 public:
  // Starts `reattest run --config CONFIG` with `env` added to the
  // environment, and waits until its socket accepts connections.
  AgentProcess(const std::string& config_path, const std::string& socket_path,
               const std::map<std::string, std::string>& env = {});
  // SIGKILLs the agent if it still runs.
  ~AgentProcess();
  AgentProcess(const AgentProcess&) = delete;
  AgentProcess& operator=(const AgentProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool ready() const { return ready_; }
  // Sends `signal`.
  void Signal(int signal) const;
  // Waits for the agent to exit and returns its exit status (-1 on timeout).
  int WaitExit(int timeout_ms = 10000);

 private:
  pid_t pid_ = -1;
  bool ready_ = false;
};

// Runs the `reattest` binary with `args` to completion; returns the exit
// status and fills `output` with stdout and stderr.
int RunReattest(const std::vector<std::string>& args, std::string* output,
                const std::map<std::string, std::string>& env = {}, uid_t run_as = 0);

// True when something accepts connections on the Unix socket `path`.
bool SocketAccepts(const std::string& path);

}  // namespace reattest::testing
