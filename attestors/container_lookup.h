// Steps shared by the attestors that look a container up in a daemon (docker,
// k8s): reading the process's cgroups, and deciding what "the daemon does not
// know it" means for a process of a given age (SPEC section 2).
//
// Blocking /proc reads; thread-safe.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "attestors/attestor.h"
#include "attestors/cgroup.h"
#include "common/duration.h"

namespace reattest::attestors {

// `result` with `outcome` and `reason` set.
AttestResult WithOutcome(Outcome outcome, std::string reason, AttestResult result = {});

// What the cgroup paths of a process say to one attestor.
struct Recognition {
  // The process is in a container the attestor looks up; `result` then has
  // `container_id` and `pod_uid` set and awaits the lookup's outcome.
  bool recognised = false;
  // When not recognised, the final result: `soft_error` when PROC_ROOT/PID/
  // cgroup is unreadable (the process exited) or names two containers or
  // pods, neither of which a retry improves; else `not_applicable`.
  AttestResult result;
};

// Reads and parses PROC_ROOT/PID/cgroup; `applies` says whether the
// container it names is the attestor's.
Recognition RecogniseContainer(const AttestRequest& request,
                               bool (*applies)(const CgroupInfo& cgroups));

// How long ago the process started, from the request's start time or else
// PROC_ROOT/PID/stat.
absl::StatusOr<Duration> ProcessAge(const AttestRequest& request);

// The outcome for a container the daemon does not know (`unknown` says which
// and where). A daemon may not list a container it is still creating, so a
// process younger than `grace` is `transient_error`; an older one, or one
// whose age cannot be read, is `soft_error`, so a foreign container is not
// retried forever.
AttestResult NotFoundResult(const AttestRequest& request, Duration grace, std::string unknown,
                            AttestResult result);

}  // namespace reattest::attestors
