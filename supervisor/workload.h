// One live process that has connected, with everything the supervisor knows
// about it. Owned by the Supervisor and touched on the loop thread only.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "supervisor/connection.h"
#include "supervisor/event_loop.h"
#include "supervisor/merge.h"
#include "supervisor/stream_sink.h"

namespace reattest::supervisor {

enum class WorkloadState { kAttesting, kComplete, kDegraded };
std::string_view WorkloadStateName(WorkloadState state);

// Why an attestation round runs; the `reason` label of
// reattest_reattestations_total for all but the first.
enum class AttestReason { kFirst, kRetry, kPeriodic, kRecovered };
std::string_view AttestReasonName(AttestReason reason);

struct Workload {
  Workload(EventLoop& loop, uint64_t id, const ConnectionInfo& connection, size_t attestor_count)
      : id(id),
        pid(connection.pid),
        connect_uid(connection.uid),
        connect_gid(connection.gid),
        pidfd(connection.pidfd),
        attestors(attestor_count),
        attestor_deadlines(attestor_count),
        next_attestation(loop),
        drop_timer(loop),
        exit_watch(loop, connection.pidfd->fd()) {}

  const uint64_t id;  // never reused, unlike PIDs
  const pid_t pid;
  const uid_t connect_uid;
  const gid_t connect_gid;
  const std::shared_ptr<const Pidfd> pidfd;
  // Read by the first attestation; every later one must see the same.
  std::optional<uint64_t> start_time;

  WorkloadState state = WorkloadState::kAttesting;
  std::vector<AttestorState> attestors;  // index = attestor index
  // Per attestor, armed while its lookup of the round in flight may time out.
  std::vector<std::unique_ptr<Timer>> attestor_deadlines;
  SelectorSet selectors;
  // What attestors recognised, for logs and the debug view.
  std::string container_id;
  std::string pod_uid;
  WorkloadIdentity identity;
  std::vector<StreamSink*> streams;  // in attach order

  bool attestation_in_flight = false;
  // A round asked for while one runs; it starts when the current one ends.
  std::optional<AttestReason> queued;
  // Failed attestations since the workload was last complete (n of the schedule).
  int failures = 0;
  // n of the armed retry, so SIGHUP can recompute its delay; -1 = periodic or none.
  int armed_retry_n = -1;
  std::optional<std::chrono::steady_clock::time_point> degraded_since;

  Timer next_attestation;  // retry or periodic
  Timer drop_timer;        // runs while no stream is attached
  FdWatch exit_watch;      // the pidfd turns readable when the process exits
};

}  // namespace reattest::supervisor
