#include "attestors/k8s/pod_list_fetcher.h"

#include "absl/status/status.h"
#include "common/strings.h"

namespace reattest::attestors {

PodListFetcher::PodListFetcher(FetchFunction fetch, Duration min_interval, Duration timeout,
                               Clock clock)
    : fetch_(std::move(fetch)),
      min_interval_(min_interval),
      timeout_(timeout),
      clock_(std::move(clock)),
      thread_([this](std::stop_token stop) { Run(stop); }) {}

PodListFetcher::~PodListFetcher() {
  thread_.request_stop();
  thread_.join();
}

PodListFetcher::Pods PodListFetcher::Get() {
  std::unique_lock<std::mutex> lock(mutex_);
  uint64_t ended = latest_.has_value() ? latest_->generation : 0;
  if (started_ == ended) {
    std::chrono::steady_clock::time_point now = clock_();
    if (latest_.has_value() && now - latest_->started < min_interval_) {
      return latest_->pods;
    }
    StartLocked(now);
  }
  return AwaitLocked(lock, started_);
}

int PodListFetcher::fetches_started() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int>(started_);
}

void PodListFetcher::StartLocked(std::chrono::steady_clock::time_point now) {
  ++started_;
  in_flight_since_ = now;
  changed_.notify_all();
}

PodListFetcher::Pods PodListFetcher::AwaitLocked(std::unique_lock<std::mutex>& lock,
                                                 uint64_t generation) {
  std::chrono::steady_clock::time_point deadline = in_flight_since_ + timeout_;
  while (!latest_.has_value() || latest_->generation < generation) {
    std::chrono::steady_clock::time_point now = clock_();
    if (now >= deadline) {
      // Abandoned: the next caller may start a new fetch, and this one's
      // result is dropped when it comes (its generation is no longer ahead).
      latest_ = Result{generation, in_flight_since_,
                       absl::DeadlineExceededError(Concat("kubelet /pods fetch abandoned after ",
                                                          FormatDuration(timeout_)))};
      changed_.notify_all();
      break;
    }
    changed_.wait_for(lock, deadline - now);
  }
  return latest_->pods;
}

void PodListFetcher::Run(std::stop_token stop) {
  std::unique_lock<std::mutex> lock(mutex_);
  while (changed_.wait(lock, stop, [this] { return started_ > taken_; })) {
    uint64_t generation = taken_ = started_;
    std::chrono::steady_clock::time_point since = in_flight_since_;
    lock.unlock();
    Pods pods = fetch_();
    lock.lock();
    if (!latest_.has_value() || latest_->generation < generation) {
      latest_ = Result{generation, since, std::move(pods)};
      changed_.notify_all();
    }
  }
}

}  // namespace reattest::attestors
