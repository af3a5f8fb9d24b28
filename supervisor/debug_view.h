// The agent's view of every workload as JSON, for `/debug/workloads` and
// `reattest debug workloads` (SPEC section 7).
#pragma once

#include <string>
#include <vector>

#include "supervisor/supervisor.h"

namespace reattest::supervisor {

// Never shows a secret: values of `docker:env` selectors are cut to the key.
std::string RenderWorkloadsJson(const std::vector<WorkloadView>& workloads);

// `docker:env:KEY=VALUE` becomes `docker:env:KEY`; other selectors pass.
std::string RedactSelector(const std::string& selector);

}  // namespace reattest::supervisor
