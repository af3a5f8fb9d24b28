// A private agent for one test: its own temp dir, socket, data dir, config
// and entries file.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "tests/support/agent_process.h"
#include "tests/support/temp_dir.h"

namespace reattest::testing {

class AgentFixture {
 public:
  // `entries_yaml` is the entries file; `extra_config` is appended to the
  // config file (top-level keys). Unless `extra_config` sets `attestors`,
  // the unix attestor is enabled; unless it sets `identity`, the local source
  // reads entries.yaml with its defaults.
  explicit AgentFixture(const std::string& entries_yaml, const std::string& extra_config = "");

  std::unique_ptr<AgentProcess> Start(const std::map<std::string, std::string>& env = {}) const;

  const TempDir& dir() const { return dir_; }
  const std::string& socket() const { return socket_; }
  const std::string& config() const { return config_; }
  std::string entries_path() const { return dir_ / "entries.yaml"; }

 private:
  TempDir dir_;
  std::string socket_;
  std::string config_;
};

// An entries file with one entry per (spiffe path, selector) pair, in order.
std::string EntriesYaml(const std::vector<std::pair<std::string, std::string>>& entries);

}  // namespace reattest::testing
