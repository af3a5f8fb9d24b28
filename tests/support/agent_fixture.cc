#include "tests/support/agent_fixture.h"

namespace reattest::testing {

AgentFixture::AgentFixture(const std::string& entries_yaml, const std::string& extra_config)
    : socket_(dir_ / "api.sock") {
  dir_.Write("entries.yaml", entries_yaml);
  config_ = dir_.Write("config.yaml",
                       "trust_domain: example.org\n"
                       "socket_path: " +
                           socket_ +
                           "\n"
                           "data_dir: data\n"
                           "log: {level: debug, format: text}\n"
                           "attestors:\n"
                           "  unix: {}\n"
                           "identity:\n"
                           "  local:\n"
                           "    entries_file: entries.yaml\n" +
                           extra_config);
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
