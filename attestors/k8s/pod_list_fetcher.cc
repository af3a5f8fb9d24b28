#include "attestors/k8s/pod_list_fetcher.h"

#include <algorithm>

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

// Each pass either returns or waits for something to change: a fetch ending,
// or the interval passing.
PodListFetcher::Fetched PodListFetcher::Get(TimePoint not_before) {
  std::unique_lock<std::mutex> lock(mutex_);
  const TimePoint give_up = clock_() + timeout_ + min_interval_;
  while (true) {
    if (InFlightLocked()) {
      TimePoint since = in_flight_since_;
      Fetched fetched = AwaitLocked(lock);
      if (since >= not_before) {
        return fetched;
      }
      continue;  // too old for this caller: the next one, then
    }

    TimePoint now = clock_();
    if (latest_.has_value() && latest_->fetched.started >= not_before &&
        now - latest_->fetched.started < min_interval_) {
      return latest_->fetched;
    }
    TimePoint earliest = latest_.has_value() ? latest_->fetched.started + min_interval_ : now;
    if (now >= earliest) {
      StartLocked(now);
      continue;
    }
    if (now >= give_up) {
      return Fetched{absl::DeadlineExceededError("no kubelet /pods fetch new enough in time"), now};
    }
    changed_.wait_for(lock, std::min(earliest, give_up) - now);
  }
}

int PodListFetcher::fetches_started() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int>(started_);
}

bool PodListFetcher::InFlightLocked() const {
  return started_ > (latest_.has_value() ? latest_->generation : 0);
}

void PodListFetcher::StartLocked(TimePoint now) {
  ++started_;
  in_flight_since_ = now;
  changed_.notify_all();
}

PodListFetcher::Fetched PodListFetcher::AwaitLocked(std::unique_lock<std::mutex>& lock) {
  const uint64_t generation = started_;
  const TimePoint deadline = in_flight_since_ + timeout_;
  while (!latest_.has_value() || latest_->generation < generation) {
    TimePoint now = clock_();
    if (now >= deadline) {
      // Abandoned: the next caller may start a new fetch, and this one's
      // result is dropped when it comes (its generation is no longer ahead).
      latest_ = Result{generation,
                       {absl::DeadlineExceededError(Concat("kubelet /pods fetch abandoned after ",
                                                           FormatDuration(timeout_))),
                        in_flight_since_}};
      changed_.notify_all();
      break;
    }
    changed_.wait_for(lock, deadline - now);
  }
  return latest_->fetched;
}

void PodListFetcher::Run(std::stop_token stop) {
  std::unique_lock<std::mutex> lock(mutex_);
  while (changed_.wait(lock, stop, [this] { return started_ > taken_; })) {
    uint64_t generation = taken_ = started_;
    TimePoint since = in_flight_since_;
    lock.unlock();
    Pods pods = fetch_();
    lock.lock();
    if (!latest_.has_value() || latest_->generation < generation) {
      latest_ = Result{generation, {std::move(pods), since}};
      changed_.notify_all();
    }
  }
}

}  // namespace reattest::attestors
