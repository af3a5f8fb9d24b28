// How the supervisor talks to a stream without knowing gRPC (SPEC section 11).
// streams/ implements StreamSink; the supervisor calls it on the loop thread.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "identity/snapshot.h"

namespace reattest::supervisor {

// The API a stream serves; also the `api` label of stream metrics. The two
// unary JWT calls are held like streams but have no metrics label.
enum class Api { kX509Svid, kX509Bundles, kJwtBundles, kSds, kJwtSvid, kValidateJwtSvid };

std::string_view ApiName(Api api);

// What one workload may see right now: the matched entries of an identity
// snapshot, in entries-file order. Cheap to copy.
struct WorkloadIdentity {
  std::shared_ptr<const identity::IdentitySnapshot> snapshot;
  std::vector<size_t> matched;

  bool has_identity() const { return !matched.empty(); }
  bool operator==(const WorkloadIdentity& other) const {
    return snapshot == other.snapshot && matched == other.matched;
  }
};

class StreamSink {
 public:
  virtual ~StreamSink() = default;

  virtual Api api() const = 0;
  // Whether the stream may be answered without an identity (SDS bundles);
  // Workload API streams wait for one instead (SPEC section 4).
  virtual bool serves_without_identity() const { return false; }
  // Whether `identity` is what the sink waits for: any identity, except for
  // a FetchJWTSVID that names one (SPEC section 4).
  virtual bool satisfied_by(const WorkloadIdentity& identity) const {
    return identity.has_identity();
  }

  // The workload's identity changed, or this is the first one. The sink
  // renders its message and sends it unless identical to the last one sent.
  virtual void Deliver(const WorkloadIdentity& identity) = 0;

  // Ends the stream. The supervisor has already forgotten the sink and makes
  // no further calls on it.
  virtual void End(const absl::Status& status) = 0;
};

}  // namespace reattest::supervisor
