#include "tests/support/agent_fixture.h"

namespace reattest::testing {

AgentFixture::AgentFixture(const std::string& entries_yaml, const std::string& extra_config)
    : socket_(dir_ / "api.sock") {
  dir_.Write("entries.yaml", entries_yaml);
  bool sets_attestors = extra_config.find("attestors:") != std::string::npos;
  bool sets_identity = extra_config.find("identity:") != std::string::npos;
  std::string config = "trust_domain: example.org\n";
  config += "socket_path: " + socket_ + "\n";
  config += "data_dir: data\n";
  config += "log: {level: debug, format: text}\n";
  config += sets_attestors ? "" : "attestors: {unix: {}}\n";
  config += sets_identity ? "" : "identity: {local: {entries_file: entries.yaml}}\n";
  config_ = dir_.Write("config.yaml", config + extra_config);
}

std::unique_ptr<AgentProcess> AgentFixture::Start(
    const std::map<std::string, std::string>& env) const {
  return std::make_unique<AgentProcess>(config_, socket_, env);
}

std::string EntriesYaml(const std::vector<std::pair<std::string, std::string>>& entries) {
  if (entries.empty()) {
    return "entries: []\n";
  }
  std::string yaml = "entries:\n";
  for (const auto& [path, selector] : entries) {
    yaml += "  - spiffe_id: spiffe://example.org" + path + "\n";
    yaml += "    selectors: [\"" + selector + "\"]\n";
  }
  return yaml;
}

}  // namespace reattest::testing
