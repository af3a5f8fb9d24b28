// The secrets last resolved for one identity, subscription and validation
// mode, shared by every SDS call of the agent. Envoys of one workload ask for
// the same names, and each request or ACK makes a stream resolve its names
// again; without this, every one converted the SVID and bundles to PEM anew
// (bench/RESULTS.md: seconds of CPU for 10,000 idle streams).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "streams/sds_xds.h"
#include "supervisor/stream_sink.h"

namespace reattest::streams {

class SdsSecretCache {
 public:
  struct Key {
    supervisor::WorkloadIdentity identity;  // holds the snapshot, so its address stays unique
    bool spiffe_validation = true;
    std::vector<std::string> names;
    bool wildcard = false;

    bool operator==(const Key&) const = default;
  };

  // Loop thread only. `resolve` runs when `key` differs from the last one.
  const ResourceList& Resolve(const Key& key, const std::function<ResourceList()>& resolve) {
    if (!last_key_ || !(*last_key_ == key)) {
      last_ = resolve();
      last_key_ = key;
    }
    return last_;
  }

 private:
  std::optional<Key> last_key_;
  ResourceList last_;
};

}  // namespace reattest::streams
