// The attestor contract (SPEC section 2): one attestation of one process by
// one attestor yields exactly one outcome, with selectors only for `ok`.
//
// Attestors know nothing of gRPC, the event loop or identities. Attest() may
// block (reads of /proc, requests to a daemon) and is called on a worker
// thread, possibly for many processes at once: implementations are
// thread-safe.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>

#include "common/duration.h"
#include "common/outcome.h"
#include "common/selector.h"

namespace reattest::attestors {

struct AttestRequest {
  pid_t pid = 0;
  // Root of the process filesystem (`proc_root`, default /proc).
  std::string proc_root = "/proc";
  // Start time of the pinned process (field 22 of /proc/PID/stat), 0 if unknown.
  uint64_t start_time_ticks = 0;
};

struct AttestResult {
  Outcome outcome = Outcome::kNotApplicable;
  // Set only for Outcome::kOk.
  SelectorSet selectors;
  // Why an error happened, for logs: "connect /var/run/docker.sock: connection refused".
  std::string reason;
  // What the attestor recognised, for logs and the debug view; may be empty.
  std::string container_id;
  std::string pod_uid;
};

// Where an attestor's work runs. /proc-only attestors share the thread pool;
// attestors that talk to a daemon get a pool of their own so an outage does
// not queue unrelated /proc reads behind requests that wait for a timeout.
enum class WorkKind { kProc, kNetwork };

class Attestor {
 public:
  virtual ~Attestor() = default;

  // `unix`, `docker`, `k8s`: the selector type and the metric label.
  virtual std::string_view name() const = 0;
  virtual WorkKind work_kind() const = 0;
  // The attestor's `timeout`: the supervisor abandons a result that takes
  // longer and counts the attempt as transient_error. Zero: no deadline
  // (/proc-only attestors, whose reads do not hang).
  virtual Duration timeout() const { return Duration::zero(); }
  // Blocking; see the file comment for threading.
  virtual AttestResult Attest(const AttestRequest& request) = 0;
};

}  // namespace reattest::attestors
