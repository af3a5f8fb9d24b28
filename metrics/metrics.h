// The agent's Prometheus metrics (SPEC section 8): one registry that every
// module records into, and its text exposition for `metrics.listen`.
//
// Threading: every method may be called from any thread at any time (the
// loop thread records, an HTTP thread scrapes). Series are created once in
// the constructor and never added later; recording only touches
// prometheus-cpp's atomic counters and gauges.
//
// Label values: only the values fixed at construction are accepted. A call
// with any other value is ignored and logged at debug level, so a caller's
// slip can never create a series at runtime, nor put a PID, container ID or
// SPIFFE ID into a label.
//
// Beyond the table of SPEC section 8 this registry also exports
// `reattest_limit_rejections_total{limit}`, the connections and streams
// refused by `limits.*` (SPEC section 3).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/outcome.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace reattest::metrics {

// The accepted values of each fixed label (attestor names come from the
// constructor, outcomes from common/outcome.h).
inline constexpr std::array<std::string_view, 3> kReattestationReasons = {"retry", "periodic",
                                                                          "recovered"};
inline constexpr std::array<std::string_view, 3> kWorkloadStates = {"attesting", "complete",
                                                                    "degraded"};
inline constexpr std::array<std::string_view, 4> kApis = {"x509_svid", "x509_bundles",
                                                          "jwt_bundles", "sds"};
inline constexpr std::array<std::string_view, 2> kLimits = {"connections_per_uid",
                                                            "streams_per_connection"};

// The content type of Metrics::Scrape() output.
inline constexpr std::string_view kContentType = "text/plain; version=0.0.4";

using SteadyClock = std::chrono::steady_clock;

class Metrics {
 public:
  // `attestors` are the enabled attestors' names ({"unix", "docker"}), the
  // only accepted values of the `attestor` label. `steady_now` is read at
  // every scrape; tests inject a fake clock.
  Metrics(const std::vector<std::string>& attestors, std::string_view version,
          std::function<SteadyClock::time_point()> steady_now = SteadyClock::now);
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // One attestation of one process by one attestor, and how long it took.
  void RecordAttestation(std::string_view attestor, Outcome outcome, double seconds);
  // A re-attestation was started; `reason` is one of kReattestationReasons.
  void RecordReattestation(std::string_view reason);
  // The delay chosen before the next retry of a failed attestation.
  void RecordRetryDelay(double seconds);
  // A degraded workload became complete `seconds` after its first failure.
  void RecordRecovery(double seconds);

  // Current counts; `state` is one of kWorkloadStates, `api` one of kApis.
  void SetWorkloads(std::string_view state, int64_t count);
  void SetStreams(std::string_view api, int64_t count);
  // Streams whose workload is degraded.
  void SetStuckStreams(std::string_view api, int64_t count);

  // The start of the longest-running degradation, or nullopt when no
  // workload is degraded. reattest_oldest_degraded_seconds is computed from
  // it at every scrape, so it grows between events without further calls.
  void SetOldestDegradedSince(std::optional<SteadyClock::time_point> since);

  // A message was sent on a stream of `api`.
  void RecordPush(std::string_view api);
  void RecordSvidRotation();
  void SetEntries(int64_t count);
  void RecordEntriesReloadError();
  // A SIGHUP reload, accepted (`ok`) or rejected.
  void RecordConfigReload(bool ok);
  // When the CA in use expires; the gauge reads 0 until this is first called.
  void SetCaExpiry(std::chrono::system_clock::time_point expiry);
  // A connection or stream refused by a limit; `limit` is one of kLimits.
  void RecordLimitRejection(std::string_view limit);

  // Every series in the Prometheus text format (kContentType), with
  // time-derived gauges brought up to date first.
  std::string Scrape();

 private:
  // The series of one family, one per accepted value of its single label.
  template <typename T>
  using SeriesByLabel = std::map<std::string, T*, std::less<>>;

  // Per attestor: a counter per outcome (indexed like kAllOutcomes) and the
  // duration histogram.
  struct AttestorSeries {
    std::array<prometheus::Counter*, kAllOutcomes.size()> outcomes{};
    prometheus::Histogram* duration = nullptr;
  };

  void AddAttestorFamilies(const std::vector<std::string>& attestors);
  void AddWorkloadFamilies();
  void AddStreamFamilies();
  void AddIdentityFamilies(std::string_view version);

  // The series of `family` for `value`, or nullptr (logged) if unknown.
  template <typename T>
  T* Find(const SeriesByLabel<T>& series, std::string_view family, std::string_view value) const;
  void RefreshOldestDegraded();

  prometheus::Registry registry_;
  std::function<SteadyClock::time_point()> steady_now_;

  std::map<std::string, AttestorSeries, std::less<>> attestors_;
  SeriesByLabel<prometheus::Counter> reattestations_;
  prometheus::Histogram* retry_delay_ = nullptr;
  prometheus::Counter* recoveries_ = nullptr;
  prometheus::Histogram* recovery_duration_ = nullptr;

  SeriesByLabel<prometheus::Gauge> workloads_;
  prometheus::Gauge* oldest_degraded_ = nullptr;
  SeriesByLabel<prometheus::Gauge> streams_;
  SeriesByLabel<prometheus::Gauge> stuck_streams_;
  SeriesByLabel<prometheus::Counter> pushes_;
  SeriesByLabel<prometheus::Counter> limit_rejections_;

  prometheus::Counter* svid_rotations_ = nullptr;
  prometheus::Gauge* entries_ = nullptr;
  prometheus::Counter* entries_reload_errors_ = nullptr;
  SeriesByLabel<prometheus::Counter> config_reloads_;
  prometheus::Gauge* ca_expiry_ = nullptr;

  std::mutex degraded_mutex_;
  std::optional<SteadyClock::time_point> oldest_degraded_since_;  // guarded by degraded_mutex_
};

}  // namespace reattest::metrics
