#include "metrics/metrics.h"

#include <algorithm>
#include <cmath>

#include "common/log.h"
#include "prometheus/family.h"
#include "prometheus/text_serializer.h"

namespace reattest::metrics {
namespace {

using prometheus::Counter;
using prometheus::Gauge;
using prometheus::Histogram;

const log::Logger kLog("metrics");

// An attestation is a few /proc reads (sub-millisecond) up to a Docker or
// kubelet lookup that runs into its timeout (seconds).
const Histogram::BucketBoundaries kAttestationBuckets = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
// Backoff runs from initial_backoff (500ms by default) to max_backoff plus
// jitter; 120 s covers a raised max_backoff.
const Histogram::BucketBoundaries kRetryDelayBuckets = {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
// A recovery takes one retry after a blip, or as long as a daemon outage.
const Histogram::BucketBoundaries kRecoveryBuckets = {0.1, 0.5, 1,   2.5, 5,    10,  30,
                                                      60,  120, 300, 600, 1800, 3600};

template <typename T>
prometheus::Family<T>& AddFamily(prometheus::detail::Builder<T> builder,
                                 prometheus::Registry& registry, const std::string& name,
                                 const std::string& help) {
  return builder.Name(name).Help(help).Register(registry);
}

// Creates one series of `family` per value of `label`, each at 0.
template <typename T, typename Values, typename... Args>
std::map<std::string, T*, std::less<>> AddSeries(prometheus::Family<T>& family,
                                                 const std::string& label, const Values& values,
                                                 const Args&... args) {
  std::map<std::string, T*, std::less<>> series;
  for (std::string_view value : values) {
    std::string key(value);
    series.emplace(key, &family.Add({{label, key}}, args...));
  }
  return series;
}

size_t OutcomeIndex(Outcome outcome) {
  return std::find(kAllOutcomes.begin(), kAllOutcomes.end(), outcome) - kAllOutcomes.begin();
}

// Durations come from clock arithmetic; one negative or NaN observation
// would corrupt the histogram's _sum for the life of the process.
void ObserveSeconds(Histogram& histogram, std::string_view family, double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) {
    kLog.Debug("invalid duration ignored", {{"metric", family}, {"seconds", seconds}});
    return;
  }
  histogram.Observe(seconds);
}

}  // namespace

Metrics::Metrics(const std::vector<std::string>& attestors, std::string_view version,
                 std::function<SteadyClock::time_point()> steady_now)
    : steady_now_(std::move(steady_now)) {
  AddAttestorFamilies(attestors);
  AddWorkloadFamilies();
  AddStreamFamilies();
  AddIdentityFamilies(version);
}

void Metrics::AddAttestorFamilies(const std::vector<std::string>& attestors) {
  auto& attestations =
      AddFamily(prometheus::BuildCounter(), registry_, "reattest_attestations_total",
                "Attestations of one process by one attestor, by outcome.");
  auto& durations =
      AddFamily(prometheus::BuildHistogram(), registry_, "reattest_attestation_duration_seconds",
                "Time one attestor took to attest one process.");
  for (const std::string& attestor : attestors) {
    AttestorSeries& series = attestors_[attestor];
    for (Outcome outcome : kAllOutcomes) {
      series.outcomes[OutcomeIndex(outcome)] = &attestations.Add(
          {{"attestor", attestor}, {"outcome", std::string(OutcomeName(outcome))}});
    }
    series.duration = &durations.Add({{"attestor", attestor}}, kAttestationBuckets);
  }

  auto& reattestations =
      AddFamily(prometheus::BuildCounter(), registry_, "reattest_reattestations_total",
                "Re-attestations started, by reason: a retry after a failure, the periodic "
                "refresh, or an attestor whose lookups work again.");
  reattestations_ = AddSeries(reattestations, "reason", kReattestationReasons);
  retry_delay_ = &AddFamily(prometheus::BuildHistogram(), registry_, "reattest_retry_delay_seconds",
                            "Delay chosen before retrying a failed attestation, jitter included.")
                      .Add({}, kRetryDelayBuckets);
}

void Metrics::AddWorkloadFamilies() {
  auto& workloads = AddFamily(prometheus::BuildGauge(), registry_, "reattest_workloads",
                              "Live workloads by attestation state.");
  workloads_ = AddSeries(workloads, "state", kWorkloadStates);
  oldest_degraded_ =
      &AddFamily(prometheus::BuildGauge(), registry_, "reattest_oldest_degraded_seconds",
                 "Age of the longest-running degradation of a live workload; 0 when none is "
                 "degraded.")
           .Add({});
  recoveries_ = &AddFamily(prometheus::BuildCounter(), registry_, "reattest_recoveries_total",
                           "Degraded workloads that became complete again.")
                     .Add({});
  recovery_duration_ =
      &AddFamily(prometheus::BuildHistogram(), registry_, "reattest_recovery_duration_seconds",
                 "Time from a workload's first failed attestation to it being complete again.")
           .Add({}, kRecoveryBuckets);
}

void Metrics::AddStreamFamilies() {
  streams_ = AddSeries(
      AddFamily(prometheus::BuildGauge(), registry_, "reattest_streams", "Open streams by API."),
      "api", kApis);
  stuck_streams_ =
      AddSeries(AddFamily(prometheus::BuildGauge(), registry_, "reattest_stuck_streams",
                          "Open streams whose workload is degraded, by API."),
                "api", kApis);
  pushes_ = AddSeries(AddFamily(prometheus::BuildCounter(), registry_, "reattest_pushes_total",
                                "Identity updates sent on streams, by API."),
                      "api", kApis);
  // Not in the table of SPEC section 8: see the header.
  limit_rejections_ =
      AddSeries(AddFamily(prometheus::BuildCounter(), registry_, "reattest_limit_rejections_total",
                          "Connections and streams refused by a limits setting, by limit."),
                "limit", kLimits);
}

void Metrics::AddIdentityFamilies(std::string_view version) {
  svid_rotations_ = &AddFamily(prometheus::BuildCounter(), registry_,
                               "reattest_svid_rotations_total", "X.509-SVID rotations.")
                         .Add({});
  entries_ = &AddFamily(prometheus::BuildGauge(), registry_, "reattest_entries",
                        "Registration entries in the identity snapshot in use.")
                  .Add({});
  entries_reload_errors_ =
      &AddFamily(prometheus::BuildCounter(), registry_, "reattest_entries_reload_errors_total",
                 "Entries file reloads rejected; the last good entries stay in use.")
           .Add({});
  config_reloads_ =
      AddSeries(AddFamily(prometheus::BuildCounter(), registry_, "reattest_config_reloads_total",
                          "Configuration reloads on SIGHUP, by result."),
                "result", std::array<std::string_view, 2>{"ok", "error"});
  ca_expiry_ =
      &AddFamily(prometheus::BuildGauge(), registry_, "reattest_ca_expiry_timestamp_seconds",
                 "Expiry of the CA in use, in seconds since the Unix epoch; 0 until a CA "
                 "is loaded.")
           .Add({});
  AddFamily(prometheus::BuildGauge(), registry_, "reattest_build_info",
            "Always 1; the version label names the running build.")
      .Add({{"version", std::string(version)}})
      .Set(1);
}

template <typename T>
T* Metrics::Find(const SeriesByLabel<T>& series, std::string_view family,
                 std::string_view value) const {
  auto it = series.find(value);
  if (it == series.end()) {
    kLog.Debug("unknown label value ignored", {{"metric", family}, {"value", value}});
    return nullptr;
  }
  return it->second;
}

void Metrics::RecordAttestation(std::string_view attestor, Outcome outcome, double seconds) {
  auto it = attestors_.find(attestor);
  size_t index = OutcomeIndex(outcome);
  if (it == attestors_.end() || index >= kAllOutcomes.size()) {
    kLog.Debug("unknown label value ignored",
               {{"metric", "reattest_attestations_total"}, {"value", attestor}});
    return;
  }
  it->second.outcomes[index]->Increment();
  ObserveSeconds(*it->second.duration, "reattest_attestation_duration_seconds", seconds);
}

void Metrics::RecordReattestation(std::string_view reason) {
  if (Counter* counter = Find(reattestations_, "reattest_reattestations_total", reason)) {
    counter->Increment();
  }
}

void Metrics::RecordRetryDelay(double seconds) {
  ObserveSeconds(*retry_delay_, "reattest_retry_delay_seconds", seconds);
}

void Metrics::RecordRecovery(double seconds) {
  recoveries_->Increment();
  ObserveSeconds(*recovery_duration_, "reattest_recovery_duration_seconds", seconds);
}

void Metrics::SetWorkloads(std::string_view state, int64_t count) {
  if (Gauge* gauge = Find(workloads_, "reattest_workloads", state)) {
    gauge->Set(static_cast<double>(count));
  }
}

void Metrics::SetStreams(std::string_view api, int64_t count) {
  if (Gauge* gauge = Find(streams_, "reattest_streams", api)) {
    gauge->Set(static_cast<double>(count));
  }
}

void Metrics::SetStuckStreams(std::string_view api, int64_t count) {
  if (Gauge* gauge = Find(stuck_streams_, "reattest_stuck_streams", api)) {
    gauge->Set(static_cast<double>(count));
  }
}

void Metrics::SetOldestDegradedSince(std::optional<SteadyClock::time_point> since) {
  std::lock_guard<std::mutex> lock(degraded_mutex_);
  oldest_degraded_since_ = since;
}

void Metrics::RecordPush(std::string_view api) {
  if (Counter* counter = Find(pushes_, "reattest_pushes_total", api)) {
    counter->Increment();
  }
}

void Metrics::RecordSvidRotation() { svid_rotations_->Increment(); }

void Metrics::SetEntries(int64_t count) { entries_->Set(static_cast<double>(count)); }

void Metrics::RecordEntriesReloadError() { entries_reload_errors_->Increment(); }

void Metrics::RecordConfigReload(bool ok) { config_reloads_.at(ok ? "ok" : "error")->Increment(); }

void Metrics::SetCaExpiry(std::chrono::system_clock::time_point expiry) {
  ca_expiry_->Set(std::chrono::duration<double>(expiry.time_since_epoch()).count());
}

void Metrics::RecordLimitRejection(std::string_view limit) {
  if (Counter* counter = Find(limit_rejections_, "reattest_limit_rejections_total", limit)) {
    counter->Increment();
  }
}

std::string Metrics::Scrape() {
  RefreshOldestDegraded();
  return prometheus::TextSerializer().Serialize(registry_.Collect());
}

void Metrics::RefreshOldestDegraded() {
  std::optional<SteadyClock::time_point> since;
  {
    std::lock_guard<std::mutex> lock(degraded_mutex_);
    since = oldest_degraded_since_;
  }
  double age = 0;
  if (since.has_value()) {
    // A start stamped a moment after our clock read is not a negative age.
    age = std::max(0.0, std::chrono::duration<double>(steady_now_() - *since).count());
  }
  oldest_degraded_->Set(age);
}

}  // namespace reattest::metrics
