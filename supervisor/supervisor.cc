#include "supervisor/supervisor.h"

#include <algorithm>
#include <map>
#include <random>

#include "common/peer.h"
#include "common/strings.h"
#include "supervisor/backoff.h"

namespace reattest::supervisor {

using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

constexpr std::string_view kPinFailed = "could not verify existence of the original caller";
constexpr std::string_view kNoIdentity = "no identity issued";
constexpr std::string_view kAttestationFailed = "workload attestation failed";
// How stale a gauge may be: long enough to coalesce a burst of events.
constexpr auto kGaugeFlushDelay = std::chrono::milliseconds(20);

double SecondsOf(Duration duration) { return std::chrono::duration<double>(duration).count(); }

int64_t MillisSince(steady_clock::time_point start) {
  return duration_cast<milliseconds>(steady_clock::now() - start).count();
}

}  // namespace

std::string_view WorkloadStateName(WorkloadState state) {
  switch (state) {
    case WorkloadState::kAttesting:
      return "attesting";
    case WorkloadState::kComplete:
      return "complete";
    case WorkloadState::kDegraded:
      return "degraded";
  }
  return "unknown";
}

std::string_view AttestReasonName(AttestReason reason) {
  switch (reason) {
    case AttestReason::kFirst:
      return "first";
    case AttestReason::kRetry:
      return "retry";
    case AttestReason::kPeriodic:
      return "periodic";
    case AttestReason::kRecovered:
      return "recovered";
  }
  return "unknown";
}

std::string_view ApiName(Api api) {
  switch (api) {
    case Api::kX509Svid:
      return "x509_svid";
    case Api::kX509Bundles:
      return "x509_bundles";
    case Api::kJwtBundles:
      return "jwt_bundles";
    case Api::kSds:
      return "sds";
    case Api::kJwtSvid:
      return "jwt_svid";
    case Api::kValidateJwtSvid:
      return "validate_jwt_svid";
  }
  return "unknown";
}

// One attestation round of one workload: every attestor plus the pin check,
// run concurrently off the loop. Each job writes only its own slot; the loop
// reads them after the last job's completion has been posted back.
struct Supervisor::Round {
  uint64_t workload_id = 0;
  pid_t pid = 0;
  AttestReason reason = AttestReason::kFirst;
  steady_clock::time_point started;
  attestors::AttestRequest request;
  std::vector<attestors::AttestResult> results;
  // Loop thread only: results[i] is in (answered or timed out).
  std::vector<bool> settled;
  size_t pending = 0;
  absl::Status pin_status;
  uint64_t start_time = 0;
};

Supervisor::Supervisor(EventLoop& loop, SupervisorOptions options,
                       std::vector<std::unique_ptr<attestors::Attestor>> attestors,
                       WorkerPool& network_pool, metrics::Metrics& metrics)
    : loop_(loop),
      options_(std::move(options)),
      network_pool_(network_pool),
      metrics_(metrics),
      gauge_flush_(loop),
      attestor_failing_(attestors.size(), false),
      attestor_ok_round_started_(attestors.size()),
      soft_error_log_(attestors.size()) {
  for (std::unique_ptr<attestors::Attestor>& attestor : attestors) {
    attestors_.push_back(std::move(attestor));
  }
  if (!options_.random) {
    options_.random = [engine = std::make_shared<std::mt19937_64>(std::random_device{}())] {
      return std::uniform_real_distribution<double>(0.0, 1.0)(*engine);
    };
  }
}

Supervisor::~Supervisor() = default;

void Supervisor::OnConnection(const ConnectionInfo& connection) {
  if (shutting_down_) {
    return;
  }
  int& count = connections_per_uid_[connection.uid];
  ++count;
  if (count > options_.limits.max_connections_per_uid) {
    // Refused connections are still counted until they close, so a user
    // cannot get around the limit by reconnecting in a loop.
    refused_connections_.insert(connection.id);
    metrics_.RecordLimitRejection("connections_per_uid");
    log_.Warn("connection over the per-user limit; its calls will be refused",
              {{"pid", connection.pid},
               {"uid", static_cast<int64_t>(connection.uid)},
               {"limit", options_.limits.max_connections_per_uid}});
    return;
  }
  FindOrCreate(connection);
}

void Supervisor::OnConnectionClosed(const ConnectionInfo& connection) {
  auto it = connections_per_uid_.find(connection.uid);
  if (it != connections_per_uid_.end() && --it->second <= 0) {
    connections_per_uid_.erase(it);
  }
  refused_connections_.erase(connection.id);
}

bool Supervisor::AtConnectionLimit(uid_t uid) const {
  auto it = connections_per_uid_.find(uid);
  return it != connections_per_uid_.end() && it->second >= options_.limits.max_connections_per_uid;
}

absl::Status Supervisor::CheckLimits(const ConnectionInfo& connection) const {
  if (refused_connections_.contains(connection.id)) {
    return absl::ResourceExhaustedError(Concat("too many connections for uid ", connection.uid,
                                               " (limit ", options_.limits.max_connections_per_uid,
                                               ")"));
  }
  auto it = streams_per_connection_.find(connection.id);
  if (it != streams_per_connection_.end() &&
      it->second >= options_.limits.max_streams_per_connection) {
    return absl::ResourceExhaustedError(Concat("too many streams on this connection (limit ",
                                               options_.limits.max_streams_per_connection, ")"));
  }
  return absl::OkStatus();
}

Workload* Supervisor::FindOrCreate(const ConnectionInfo& connection) {
  auto it = workloads_.find(connection.pid);
  if (it != workloads_.end()) {
    // A live pidfd means the PID has not been reused: same process.
    if (it->second->pidfd->IsAlive()) {
      return it->second.get();
    }
    DropWorkload(*it->second, absl::UnauthenticatedError(std::string(kPinFailed)));
  }

  auto workload =
      std::make_unique<Workload>(loop_, next_workload_id_++, connection, attestors_.size());
  Workload& created = *workload;
  workloads_[connection.pid] = std::move(workload);
  uint64_t id = created.id;
  pid_t pid = created.pid;
  created.exit_watch.StartReadable([this, pid, id] {
    if (Workload* exited = Find(pid, id)) {
      log_.Debug("workload process exited", {{"pid", pid}});
      DropWorkload(*exited, absl::UnauthenticatedError("workload process exited"));
    }
  });
  ArmIdleDrop(created);
  StartAttestation(created, AttestReason::kFirst);
  MarkGaugesDirty();
  return &created;
}

Workload* Supervisor::Find(pid_t pid, uint64_t id) {
  auto it = workloads_.find(pid);
  if (it == workloads_.end() || it->second->id != id) {
    return nullptr;
  }
  return it->second.get();
}

void Supervisor::DropWorkload(Workload& workload, const absl::Status& status) {
  std::vector<StreamSink*> streams = workload.streams;
  for (StreamSink* sink : streams) {
    EndStream(sink, status);
  }
  // Destroys the workload's timers and exit watch with it.
  workloads_.erase(workload.pid);
  MarkGaugesDirty();
}

void Supervisor::ArmIdleDrop(Workload& workload) {
  pid_t pid = workload.pid;
  uint64_t id = workload.id;
  workload.drop_timer.Start(options_.idle_drop_after, [this, pid, id] {
    if (Workload* idle = Find(pid, id); idle != nullptr && idle->streams.empty()) {
      workloads_.erase(pid);
      MarkGaugesDirty();
    }
  });
}

void Supervisor::AttachStream(StreamSink* sink, const ConnectionInfo& connection) {
  if (shutting_down_) {
    sink->End(absl::UnavailableError("agent shutting down"));
    return;
  }
  if (absl::Status allowed = CheckLimits(connection); !allowed.ok()) {
    if (!refused_connections_.contains(connection.id)) {
      metrics_.RecordLimitRejection("streams_per_connection");
    }
    sink->End(allowed);
    return;
  }
  Workload* workload = FindOrCreate(connection);
  workload->drop_timer.Stop();
  workload->streams.push_back(sink);
  StreamRecord& record = streams_[sink];
  record.workload_id = workload->id;
  record.connection_id = connection.id;
  ++streams_per_connection_[connection.id];
  record.pid = workload->pid;
  MarkGaugesDirty();
  Serve(*workload, sink, record);
}

void Supervisor::DetachStream(StreamSink* sink) {
  auto it = streams_.find(sink);
  if (it == streams_.end()) {
    return;
  }
  Workload* workload = Find(it->second.pid, it->second.workload_id);
  auto per_connection = streams_per_connection_.find(it->second.connection_id);
  if (per_connection != streams_per_connection_.end() && --per_connection->second <= 0) {
    streams_per_connection_.erase(per_connection);
  }
  streams_.erase(it);
  MarkGaugesDirty();
  if (workload == nullptr) {
    return;
  }
  // TODO: this scan makes closing all N streams of one workload O(N^2)
  // (tens of ms at 10,000 streams, bench/RESULTS.md); keep each sink's
  // position in its StreamRecord to erase in O(1).
  std::erase(workload->streams, sink);
  if (workload->streams.empty()) {
    ArmIdleDrop(*workload);
  }
}

void Supervisor::EndStream(StreamSink* sink, const absl::Status& status) {
  DetachStream(sink);
  sink->End(status);
}

// --- Attestation -----------------------------------------------------------

void Supervisor::StartAttestation(Workload& workload, AttestReason reason) {
  if (workload.attestation_in_flight) {
    // Concurrent streams and triggers share the round in flight, plus at most one more.
    if (!workload.queued) {
      workload.queued = reason;
    }
    return;
  }
  workload.attestation_in_flight = true;
  workload.next_attestation.Stop();
  if (reason != AttestReason::kFirst) {
    metrics_.RecordReattestation(AttestReasonName(reason));
  }
  workload.armed_retry_n = -1;

  auto round = std::make_shared<Round>();
  round->workload_id = workload.id;
  round->pid = workload.pid;
  round->reason = reason;
  round->started = steady_clock::now();
  round->request = {workload.pid, options_.proc_root, workload.start_time.value_or(0)};
  round->results.resize(attestors_.size());
  round->settled.assign(attestors_.size(), false);
  round->pending = attestors_.size() + 1;

  // The pin check reads /proc: thread pool. On the first round it also
  // checks that the process still has the credentials it connected with.
  bool first = !workload.start_time.has_value();
  loop_.QueueWork(
      [round, first, proc_root = options_.proc_root, uid = workload.connect_uid,
       gid = workload.connect_gid] {
        absl::StatusOr<uint64_t> start_time = ReadStartTime(proc_root, round->pid);
        if (!start_time.ok()) {
          round->pin_status = start_time.status();
          return;
        }
        round->start_time = *start_time;
        if (first) {
          absl::StatusOr<ProcStatus> status = ReadProcStatus(proc_root, round->pid);
          if (!status.ok() || status->uid != uid || status->gid != gid) {
            round->pin_status = absl::UnauthenticatedError("credentials changed since connect");
          }
        }
      },
      Guarded([this, round] { OnJobDone(round); }));
  for (size_t i = 0; i < attestors_.size(); ++i) {
    RunAttestor(round, i);
  }
}

void Supervisor::RunAttestor(const std::shared_ptr<Round>& round, size_t index) {
  std::shared_ptr<attestors::Attestor> attestor = attestors_[index];
  auto deliver = Guarded([this, round, index](attestors::AttestResult result) {
    OnAttestorResult(round, index, std::move(result));
  });
  if (attestor->work_kind() == attestors::WorkKind::kProc) {
    auto result = std::make_shared<attestors::AttestResult>();
    loop_.QueueWork([result, attestor, round] { *result = attestor->Attest(round->request); },
                    [deliver, result]() mutable { deliver(std::move(*result)); });
    return;
  }
  network_pool_.Submit([loop = &loop_, attestor, round, deliver] {
    attestors::AttestResult result = attestor->Attest(round->request);
    loop->Post([deliver, result = std::move(result)]() mutable { deliver(std::move(result)); });
  });
  ArmAttestorDeadline(round, index, attestor->timeout());
}

// The deadline is enforced here, on the loop, so a lookup stuck past its own
// socket timeouts cannot hold a workload's round (or its streams) hostage.
void Supervisor::ArmAttestorDeadline(const std::shared_ptr<Round>& round, size_t index,
                                     Duration timeout) {
  Workload* workload = Find(round->pid, round->workload_id);
  if (workload == nullptr || timeout <= Duration::zero()) {
    return;
  }
  std::unique_ptr<Timer>& deadline = workload->attestor_deadlines[index];
  if (!deadline) {
    deadline = std::make_unique<Timer>(loop_);
  }
  deadline->Start(timeout, [this, round, index, timeout] {
    attestors::AttestResult late;
    late.outcome = Outcome::kTransientError;
    late.reason = Concat("no answer within the attestor's timeout of ", FormatDuration(timeout));
    OnAttestorResult(round, index, std::move(late));
  });
}

void Supervisor::OnAttestorResult(const std::shared_ptr<Round>& round, size_t index,
                                  attestors::AttestResult result) {
  if (round->settled[index]) {
    return;  // a late answer after its deadline: the round has moved on
  }
  round->settled[index] = true;
  metrics_.RecordAttestation(attestors_[index]->name(), result.outcome,
                             SecondsOf(steady_clock::now() - round->started));
  if (Workload* workload = Find(round->pid, round->workload_id)) {
    if (workload->attestor_deadlines[index]) {
      workload->attestor_deadlines[index]->Stop();
    }
  }
  round->results[index] = std::move(result);
  OnJobDone(round);
}

void Supervisor::OnJobDone(const std::shared_ptr<Round>& round) {
  if (--round->pending > 0) {
    return;
  }
  Workload* workload = Find(round->pid, round->workload_id);
  if (workload == nullptr) {
    return;  // dropped meanwhile: its process exited or it idled out
  }
  workload->attestation_in_flight = false;
  FinishAttestation(*workload, *round);
}

void Supervisor::FinishAttestation(Workload& workload, Round& round) {
  bool pinned = round.pin_status.ok() && workload.pidfd->IsAlive() &&
                (!workload.start_time || *workload.start_time == round.start_time);
  if (!pinned) {
    log_.Warn("dropping attestation: caller is no longer the process that connected",
              {{"pid", workload.pid}, {"reason", std::string(round.pin_status.message())}});
    DropWorkload(workload, absl::UnauthenticatedError(std::string(kPinFailed)));
    return;
  }
  workload.start_time = round.start_time;

  bool was_degraded = workload.state == WorkloadState::kDegraded;
  ApplyResults(workload.attestors, round.results);
  for (const attestors::AttestResult& result : round.results) {
    if (!result.container_id.empty()) {
      workload.container_id = result.container_id;
    }
    if (!result.pod_uid.empty()) {
      workload.pod_uid = result.pod_uid;
    }
  }
  workload.selectors = MergedSelectors(workload.attestors);
  workload.state =
      AnyTransient(workload.attestors) ? WorkloadState::kDegraded : WorkloadState::kComplete;

  ScheduleNext(workload, was_degraded);
  LogOutcomes(workload, round);
  MarkGaugesDirty();
  Refresh(workload, /*force=*/true);
  ReattestRecovered(round);

  if (workload.queued && !shutting_down_) {
    AttestReason reason = *workload.queued;
    workload.queued.reset();
    StartAttestation(workload, reason);
  }
}

void Supervisor::ScheduleNext(Workload& workload, bool was_degraded) {
  const ReattestationConfig& config = options_.reattestation;

  if (workload.state == WorkloadState::kDegraded) {
    if (!workload.degraded_since) {
      workload.degraded_since = steady_clock::now();
    }
    int n = workload.failures++;
    if (RetryAllowed(config, n)) {
      workload.armed_retry_n = n;
      Duration delay = RetryDelay(config, n, options_.random());
      metrics_.RecordRetryDelay(SecondsOf(delay));
      ArmNext(workload, delay, AttestReason::kRetry);
      return;
    }
  } else {
    workload.failures = 0;
    if (was_degraded && workload.degraded_since) {
      Duration took = steady_clock::now() - *workload.degraded_since;
      metrics_.RecordRecovery(SecondsOf(took));
      log_.Info("workload recovered", {{"pid", workload.pid},
                                       {"container_id", workload.container_id},
                                       {"pod_uid", workload.pod_uid},
                                       {"duration_ms", duration_cast<milliseconds>(took).count()}});
    }
    workload.degraded_since.reset();
  }
  workload.armed_retry_n = -1;
  if (config.periodic_interval > Duration::zero()) {
    ArmNext(workload, PeriodicDelay(config, options_.random()), AttestReason::kPeriodic);
  }
}

void Supervisor::ArmNext(Workload& workload, Duration delay, AttestReason reason) {
  pid_t pid = workload.pid;
  uint64_t id = workload.id;
  workload.next_attestation.Start(delay, [this, pid, id, reason] {
    if (Workload* due = Find(pid, id)) {
      StartAttestation(*due, reason);
    }
  });
}

void Supervisor::LogOutcomes(const Workload& workload, const Round& round) const {
  for (size_t i = 0; i < round.results.size(); ++i) {
    const attestors::AttestResult& result = round.results[i];
    std::string_view name = attestors_[i]->name();
    if (result.outcome == Outcome::kTransientError) {
      int64_t retry_in_ms =
          workload.next_attestation.armed()
              ? duration_cast<milliseconds>(workload.next_attestation.Remaining()).count()
              : -1;
      log_.Warn("attestation failed, will retry", {{"attestor", name},
                                                   {"outcome", OutcomeName(result.outcome)},
                                                   {"pid", workload.pid},
                                                   {"container_id", result.container_id},
                                                   {"pod_uid", result.pod_uid},
                                                   {"attempt", workload.failures},
                                                   {"retry_in_ms", retry_in_ms},
                                                   {"reason", result.reason}});
    } else if (result.outcome == Outcome::kSoftError) {
      // Rate-limited: a workload reconnecting in a loop must not flood the log.
      if (std::optional<int64_t> suppressed = soft_error_log_[i].Allow(steady_clock::now())) {
        log_.Warn("attestor could not tell, not retrying",
                  {{"attestor", name},
                   {"outcome", OutcomeName(result.outcome)},
                   {"pid", workload.pid},
                   {"container_id", result.container_id},
                   {"reason", result.reason},
                   {"suppressed", *suppressed}});
      }
    }
  }
  log_.Debug("attestation done", {{"pid", workload.pid},
                                  {"reason", AttestReasonName(round.reason)},
                                  {"state", WorkloadStateName(workload.state)},
                                  {"duration_ms", MillisSince(round.started)}});
}

void Supervisor::ReattestRecovered(const Round& round) {
  bool stale_failure = false;
  for (size_t i = 0; i < round.results.size(); ++i) {
    Outcome outcome = round.results[i].outcome;
    if (outcome == Outcome::kTransientError) {
      // A round that started after this one found the attestor working, so
      // this failure may predate the recovery: try again now, not after backoff.
      if (attestor_ok_round_started_[i] > round.started) {
        stale_failure = true;
      } else {
        attestor_failing_[i] = true;
      }
      continue;
    }
    if (outcome != Outcome::kOk) {
      continue;
    }
    attestor_ok_round_started_[i] = std::max(attestor_ok_round_started_[i], round.started);
    if (attestor_failing_[i]) {
      attestor_failing_[i] = false;
      ReattestDegradedBy(i, round.workload_id);
    }
  }
  Workload* workload = Find(round.pid, round.workload_id);
  if (stale_failure && workload != nullptr && !workload->attestation_in_flight) {
    StartAttestation(*workload, AttestReason::kRecovered);
  }
}

// Attestor `index` works again: its degraded workloads need not wait for
// their backoff timers. Those with a round in flight are left alone: that
// round either succeeds or comes back as a stale failure and retries at once.
void Supervisor::ReattestDegradedBy(size_t index, uint64_t except_workload_id) {
  for (auto& [pid, other] : workloads_) {
    if (other->id != except_workload_id && !other->attestation_in_flight &&
        other->attestors[index].latest == Outcome::kTransientError) {
      StartAttestation(*other, AttestReason::kRecovered);
    }
  }
}

// --- Identities and streams ------------------------------------------------

void Supervisor::SetIdentity(std::shared_ptr<const identity::IdentitySnapshot> snapshot) {
  snapshot_ = std::move(snapshot);
  for (auto& [pid, workload] : workloads_) {
    Refresh(*workload, /*force=*/false);
  }
}

void Supervisor::Refresh(Workload& workload, bool force) {
  WorkloadIdentity identity;
  identity.snapshot = snapshot_;
  if (snapshot_) {
    identity.matched = identity::MatchEntries(*snapshot_, workload.selectors);
  }
  bool changed = !(identity == workload.identity);
  workload.identity = std::move(identity);
  if (!changed && !force) {
    return;
  }
  std::vector<StreamSink*> streams = workload.streams;
  for (StreamSink* sink : streams) {
    auto it = streams_.find(sink);
    if (it != streams_.end() && (changed || !it->second.delivered)) {
      Serve(workload, sink, it->second);
    }
  }
}

// The waiting rule of SPEC section 4 for one stream.
void Supervisor::Serve(Workload& workload, StreamSink* sink, StreamRecord& record) {
  bool attested_once = workload.state != WorkloadState::kAttesting;
  if (sink->satisfied_by(workload.identity) || (sink->serves_without_identity() && attested_once)) {
    record.hold.reset();
    record.delivered = record.delivered || workload.identity.has_identity();
    sink->Deliver(workload.identity);
    return;
  }
  if (sink->serves_without_identity()) {
    return;  // served when the first attestation ends, with whatever it found
  }
  if (record.delivered || workload.state == WorkloadState::kComplete) {
    EndStream(sink, absl::PermissionDeniedError(std::string(kNoIdentity)));
    return;
  }
  // Attesting or degraded without an identity: hold until one arrives or
  // hold_timeout passes (the client's own deadline cancels the call earlier).
  if (!record.hold) {
    record.hold = std::make_unique<Timer>(loop_);
    record.hold->Start(options_.reattestation.hold_timeout, [this, sink] { OnHoldExpired(sink); });
  }
}

void Supervisor::OnHoldExpired(StreamSink* sink) {
  auto it = streams_.find(sink);
  if (it == streams_.end()) {
    return;
  }
  Workload* workload = Find(it->second.pid, it->second.workload_id);
  bool all_failed = workload != nullptr && AllErrors(workload->attestors);
  EndStream(sink, all_failed ? absl::UnavailableError(std::string(kAttestationFailed))
                             : absl::PermissionDeniedError(std::string(kNoIdentity)));
}

void Supervisor::SetReattestation(const ReattestationConfig& config) {
  options_.reattestation = config;
  for (auto& [pid, workload] : workloads_) {
    if (!workload->next_attestation.armed()) {
      continue;
    }
    int n = workload->armed_retry_n;
    Duration fresh = n >= 0 ? RetryDelay(config, n, options_.random())
                            : PeriodicDelay(config, options_.random());
    if (n < 0 && config.periodic_interval == Duration::zero()) {
      workload->next_attestation.Stop();
      continue;
    }
    if (fresh < workload->next_attestation.Remaining()) {
      ArmNext(*workload, fresh, n >= 0 ? AttestReason::kRetry : AttestReason::kPeriodic);
    }
  }
}

void Supervisor::MarkGaugesDirty() {
  if (!gauge_flush_.armed()) {
    gauge_flush_.Start(kGaugeFlushDelay, [this] { PublishGauges(); });
  }
}

void Supervisor::PublishGauges() {
  std::map<std::string_view, int64_t> workloads;
  std::map<std::string_view, int64_t> streams;
  std::map<std::string_view, int64_t> stuck;
  std::optional<steady_clock::time_point> oldest_degraded;
  for (const auto& [pid, workload] : workloads_) {
    ++workloads[WorkloadStateName(workload->state)];
    bool degraded = workload->state == WorkloadState::kDegraded;
    for (StreamSink* sink : workload->streams) {
      ++streams[ApiName(sink->api())];
      stuck[ApiName(sink->api())] += degraded ? 1 : 0;
    }
    if (degraded && workload->degraded_since &&
        (!oldest_degraded || *workload->degraded_since < *oldest_degraded)) {
      oldest_degraded = workload->degraded_since;
    }
  }
  for (std::string_view state : metrics::kWorkloadStates) {
    metrics_.SetWorkloads(state, workloads[state]);
  }
  for (std::string_view api : metrics::kApis) {
    metrics_.SetStreams(api, streams[api]);
    metrics_.SetStuckStreams(api, stuck[api]);
  }
  metrics_.SetOldestDegradedSince(oldest_degraded);
}

std::vector<WorkloadView> Supervisor::Describe() const {
  std::vector<WorkloadView> views;
  for (const auto& [pid, workload] : workloads_) {
    WorkloadView view;
    view.pid = pid;
    view.state = workload->state;
    view.failures = workload->failures;
    if (workload->next_attestation.armed()) {
      view.next_attestation_in = workload->next_attestation.Remaining();
    }
    view.selectors = workload->selectors;
    for (size_t index : workload->identity.matched) {
      view.spiffe_ids.push_back(workload->identity.snapshot->entries[index].spiffe_id.str());
    }
    view.container_id = workload->container_id;
    view.pod_uid = workload->pod_uid;
    view.streams = workload->streams.size();
    views.push_back(std::move(view));
  }
  return views;
}

void Supervisor::Shutdown(const absl::Status& status) {
  shutting_down_ = true;
  std::vector<StreamSink*> sinks;
  for (auto& [sink, record] : streams_) {
    sinks.push_back(sink);
  }
  for (StreamSink* sink : sinks) {
    EndStream(sink, status);
  }
  workloads_.clear();
}

}  // namespace reattest::supervisor
