// One registration entry of the entries file: which workloads (selectors) get
// which identity (SPIFFE ID and SVID details).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/duration.h"
#include "common/spiffe_id.h"

namespace reattest::identity {

// Braced defaults let code build an Entry naming only the fields it sets
// (`Entry{.spiffe_id = id, .selectors = {"unix:uid:0"}}`).
struct Entry {
  // Inside the agent's trust domain.
  SpiffeId spiffe_id;
  // `TYPE:VALUE` strings; the entry applies when all are in a workload's set.
  std::vector<std::string> selectors{};
  // Trust domain IDs (`spiffe://partner.org`) whose bundles the workload gets.
  std::vector<std::string> federates_with{};
  std::vector<std::string> dns_names{};
  std::string hint{};
  // Unset: the source's default `x509_ttl`.
  std::optional<Duration> x509_ttl{};
  // Line of the entry in its file (1-based), for messages.
  int line = 0;
};

}  // namespace reattest::identity
