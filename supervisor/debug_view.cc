#include "supervisor/debug_view.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace reattest::supervisor {

std::string RedactSelector(const std::string& selector) {
  constexpr std::string_view kEnvPrefix = "docker:env:";
  if (!selector.starts_with(kEnvPrefix)) {
    return selector;
  }
  return selector.substr(0, selector.find('=', kEnvPrefix.size()));
}

std::string RenderWorkloadsJson(const std::vector<WorkloadView>& workloads) {
  std::vector<WorkloadView> sorted = workloads;
  std::sort(sorted.begin(), sorted.end(),
            [](const WorkloadView& a, const WorkloadView& b) { return a.pid < b.pid; });
  nlohmann::json out = nlohmann::json::array();
  for (const WorkloadView& view : sorted) {
    nlohmann::json selectors = nlohmann::json::array();
    for (const std::string& selector : view.selectors) {
      selectors.push_back(RedactSelector(selector));
    }
    nlohmann::json entry = {
        {"pid", view.pid},
        {"state", std::string(WorkloadStateName(view.state))},
        {"attempt", view.failures},
        {"selectors", selectors},
        {"spiffe_ids", view.spiffe_ids},
        {"streams", view.streams},
    };
    entry["container_id"] = view.container_id;
    entry["pod_uid"] = view.pod_uid;
    entry["next_attestation_ms"] =
        view.next_attestation_in
            ? nlohmann::json(
                  std::chrono::duration_cast<std::chrono::milliseconds>(*view.next_attestation_in)
                      .count())
            : nlohmann::json(nullptr);
    out.push_back(std::move(entry));
  }
  return out.dump(2) + "\n";
}

}  // namespace reattest::supervisor
