// One shared kubelet `/pods` fetch for every attestation of the k8s
// attestor (SPEC section 2): PodLists can be megabytes, so a thousand
// workloads retrying at once must not become a thousand requests.
//
// - Every caller that arrives while a fetch is in flight waits on that fetch.
// - A fetch starts at most once per `min_interval`: a caller that arrives
//   sooner after the last start gets that fetch's result, failure included.
// - A fetch older than `timeout` is abandoned: its waiters get
//   DeadlineExceeded, its late result is discarded, and the next caller may
//   start a new one.
// - A caller may ask for a list no older than some time point (a process
//   that started after the last fetch cannot be in it); it then waits for
//   the next fetch the interval allows.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "attestors/k8s/pod_list.h"
#include "common/duration.h"

namespace reattest::attestors {

class PodListFetcher {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using Clock = std::function<TimePoint()>;
  using Pods = absl::StatusOr<std::shared_ptr<const PodList>>;
  // A fetch's outcome.
  struct Fetched {
    Pods pods;
    // When the fetch started, on the fetcher's clock.
    TimePoint started;
  };
  // Blocking; runs on the fetcher's own thread, one call at a time.
  using FetchFunction = std::function<Pods()>;

  // `clock` decides the min interval and the timeout; tests inject one.
  PodListFetcher(FetchFunction fetch, Duration min_interval, Duration timeout,
                 Clock clock = std::chrono::steady_clock::now);
  // Waits for a fetch under way to end: `fetch` must return (the kubelet
  // client's own deadline ensures it does).
  ~PodListFetcher();
  PodListFetcher(const PodListFetcher&) = delete;
  PodListFetcher& operator=(const PodListFetcher&) = delete;

  // Any thread. The result of a fetch that started at or after
  // `not_before`: the one in flight, the last one if it started less than
  // `min_interval` ago, or a new one, which may first wait for the interval
  // to pass. Blocks for at most about `timeout`; with `not_before`, for up
  // to one more `min_interval` and `timeout` (an older fetch in flight, the
  // interval, then its own). A wait that runs out is DeadlineExceeded.
  Fetched Get(TimePoint not_before = TimePoint::min());

  // Fetches started so far, for tests.
  int fetches_started() const;

 private:
  // The last fetch's outcome, kept for the callers of the next `min_interval`.
  struct Result {
    uint64_t generation = 0;
    Fetched fetched;
  };

  bool InFlightLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void StartLocked(TimePoint now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Waits for the fetch in flight to end or be abandoned.
  Fetched AwaitLocked(std::unique_lock<std::mutex>& lock) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void Run(std::stop_token stop);

  const FetchFunction fetch_;
  const Duration min_interval_;
  const Duration timeout_;
  const Clock clock_;

  mutable std::mutex mutex_;
  std::condition_variable_any changed_;
  // Generations count fetches started; `latest_` is the last that ended or
  // was abandoned, and a fetch is in flight while `started_` is ahead of it.
  uint64_t started_ ABSL_GUARDED_BY(mutex_) = 0;
  TimePoint in_flight_since_ ABSL_GUARDED_BY(mutex_);
  // The generation the fetch thread last took up.
  uint64_t taken_ ABSL_GUARDED_BY(mutex_) = 0;
  std::optional<Result> latest_ ABSL_GUARDED_BY(mutex_);
  // Last member: the thread starts once everything it uses is constructed.
  std::jthread thread_;
};

}  // namespace reattest::attestors
