// The supervisor (SPEC section 3): owns every workload and its streams,
// schedules attestations and retries, matches identities and tells streams
// what to send. Everything here runs on the loop thread; other threads reach
// it only through EventLoop::Post().
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "absl/status/status.h"
#include "attestors/attestor.h"
#include "common/log.h"
#include "identity/snapshot.h"
#include "metrics/metrics.h"
#include "supervisor/config.h"
#include "supervisor/connection.h"
#include "supervisor/event_loop.h"
#include "supervisor/stream_sink.h"
#include "supervisor/worker_pool.h"
#include "supervisor/workload.h"

namespace reattest::supervisor {

struct SupervisorOptions {
  std::string proc_root = "/proc";
  ReattestationConfig reattestation;
  // A workload with no stream or call is dropped this long after its last one ended.
  Duration idle_drop_after = std::chrono::seconds(30);
  LimitsConfig limits;
  // U[0, 1) for jitter; injected so tests can pin delays.
  std::function<double()> random;
};

// The supervisor's view of one workload, for the debug endpoint and tests.
struct WorkloadView {
  pid_t pid = 0;
  WorkloadState state = WorkloadState::kAttesting;
  int failures = 0;
  // Time until the next retry or periodic attestation, if one is armed.
  std::optional<Duration> next_attestation_in;
  SelectorSet selectors;
  std::vector<std::string> spiffe_ids;
  std::string container_id;
  std::string pod_uid;
  size_t streams = 0;
};

class Supervisor {
 public:
  // `network_pool` runs attestors whose work_kind() is kNetwork.
  // `network_pool` and `metrics` must outlive the supervisor.
  Supervisor(EventLoop& loop, SupervisorOptions options,
             std::vector<std::unique_ptr<attestors::Attestor>> attestors, WorkerPool& network_pool,
             metrics::Metrics& metrics);
  ~Supervisor();

  // A caller connected: attestation starts before its first call arrives.
  // A connection beyond limits.max_connections_per_uid is remembered as
  // refused: its calls end with ResourceExhausted.
  void OnConnection(const ConnectionInfo& connection);
  // The connection closed (noticed by the streams' sweep).
  void OnConnectionClosed(const ConnectionInfo& connection);
  // True when one more connection of `uid` would be refused: the caller
  // should first sweep closed connections, which are noticed lazily.
  bool AtConnectionLimit(uid_t uid) const;
  // A stream or call of `connection` opened. The sink stays attached until
  // DetachStream() or until the supervisor ends it through StreamSink::End().
  void AttachStream(StreamSink* sink, const ConnectionInfo& connection);
  // The client went away; idempotent.
  void DetachStream(StreamSink* sink);

  // A new identity snapshot (entries edit, rotation): every workload is
  // matched again and changed sets are pushed.
  void SetIdentity(std::shared_ptr<const identity::IdentitySnapshot> snapshot);
  // SIGHUP: new schedule; armed timers are re-armed to the smaller of what
  // remains and the new delay.
  void SetReattestation(const ReattestationConfig& config);
  // Ends every stream with `status` and drops every workload.
  void Shutdown(const absl::Status& status);

  size_t workload_count() const { return workloads_.size(); }
  std::vector<WorkloadView> Describe() const;

 private:
  struct StreamRecord {
    uint64_t workload_id = 0;
    uint64_t connection_id = 0;
    pid_t pid = 0;
    bool delivered = false;  // has been sent an identity at least once
    std::unique_ptr<Timer> hold;
  };
  struct Round;

  // Wraps a loop-thread completion so it does nothing once the supervisor
  // has been destroyed (on the loop thread, so there is no race).
  template <typename Fn>
  auto Guarded(Fn fn) {
    return [alive = std::weak_ptr<int>(alive_), fn = std::move(fn)](auto&&... args) mutable {
      if (!alive.expired()) {
        fn(std::forward<decltype(args)>(args)...);
      }
    };
  }

  Workload* FindOrCreate(const ConnectionInfo& connection);
  // The limits of SPEC section 3; the status to refuse a new stream with.
  absl::Status CheckLimits(const ConnectionInfo& connection) const;
  Workload* Find(pid_t pid, uint64_t id);
  void DropWorkload(Workload& workload, const absl::Status& status);
  void ArmIdleDrop(Workload& workload);

  void StartAttestation(Workload& workload, AttestReason reason);
  void RunAttestor(const std::shared_ptr<Round>& round, size_t index);
  void ArmAttestorDeadline(const std::shared_ptr<Round>& round, size_t index, Duration timeout);
  void OnAttestorResult(const std::shared_ptr<Round>& round, size_t index,
                        attestors::AttestResult result);
  void OnJobDone(const std::shared_ptr<Round>& round);
  void FinishAttestation(Workload& workload, Round& round);
  void LogOutcomes(const Workload& workload, const Round& round) const;
  void ScheduleNext(Workload& workload, bool was_degraded);
  void ArmNext(Workload& workload, Duration delay, AttestReason reason);
  void ReattestRecovered(const Round& round);
  void ReattestDegradedBy(size_t index, uint64_t except_workload_id);

  void Refresh(Workload& workload, bool force);
  void Serve(Workload& workload, StreamSink* sink, StreamRecord& record);
  void EndStream(StreamSink* sink, const absl::Status& status);
  void OnHoldExpired(StreamSink* sink);

  // Gauges are recomputed from the whole state shortly after it changes,
  // coalescing bursts of events into one pass.
  void MarkGaugesDirty();
  void PublishGauges();

  EventLoop& loop_;
  SupervisorOptions options_;
  // Shared with jobs in flight, which may outlive the supervisor.
  std::vector<std::shared_ptr<attestors::Attestor>> attestors_;
  WorkerPool& network_pool_;
  metrics::Metrics& metrics_;
  Timer gauge_flush_;
  // Per attestor: its last lookup failed, so its next success re-attests
  // its degraded workloads at once.
  std::vector<bool> attestor_failing_;
  // Per attestor, when the latest round with an ok lookup started: a failure
  // from a round that started earlier may predate the recovery.
  std::vector<std::chrono::steady_clock::time_point> attestor_ok_round_started_;
  // Per attestor: soft errors are logged at most once per interval.
  mutable std::vector<log::RateLimit> soft_error_log_;
  std::shared_ptr<const identity::IdentitySnapshot> snapshot_;
  std::unordered_map<pid_t, std::unique_ptr<Workload>> workloads_;
  std::unordered_map<StreamSink*, StreamRecord> streams_;
  std::unordered_map<uid_t, int> connections_per_uid_;
  std::unordered_set<uint64_t> refused_connections_;
  std::unordered_map<uint64_t, int> streams_per_connection_;
  uint64_t next_workload_id_ = 1;
  bool shutting_down_ = false;
  log::Logger log_{"supervisor"};
  // Expires with the supervisor: completions of work still in flight then
  // find it gone instead of a dangling `this` (see Guarded()).
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace reattest::supervisor
