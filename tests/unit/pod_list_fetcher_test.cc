#include "attestors/k8s/pod_list_fetcher.h"

#include <catch2/catch.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/status.h"

namespace reattest::attestors {
namespace {

using namespace std::chrono_literals;
using std::chrono::steady_clock;

// A kubelet stand-in whose fetches block until the test releases them, and
// a clock the test moves by hand.
class FakeKubelet {
 public:
  PodListFetcher::Pods Fetch() {
    std::unique_lock<std::mutex> lock(mutex_);
    ++entered_;
    changed_.notify_all();
    changed_.wait(lock, [this] { return released_ >= entered_; });
    if (!answer_.ok()) {
      return answer_;
    }
    return std::make_shared<const PodList>();
  }

  // Lets every fetch so far (and `extra` more) return.
  void Release(int extra = 0) {
    std::lock_guard<std::mutex> lock(mutex_);
    released_ = entered_ + extra;
    changed_.notify_all();
  }
  bool WaitEntered(int count) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, 5s, [&] { return entered_ >= count; });
  }
  void Fail(absl::Status status) {
    std::lock_guard<std::mutex> lock(mutex_);
    answer_ = std::move(status);
  }
  int entered() {
    std::lock_guard<std::mutex> lock(mutex_);
    return entered_;
  }

  steady_clock::time_point now() {
    std::lock_guard<std::mutex> lock(mutex_);
    return now_;
  }
  void Advance(Duration by) {
    std::lock_guard<std::mutex> lock(mutex_);
    now_ += by;
  }

  PodListFetcher MakeFetcher(Duration min_interval, Duration timeout, bool fake_clock = true) {
    PodListFetcher::Clock clock = steady_clock::now;
    if (fake_clock) {
      clock = [this] { return now(); };
    }
    return PodListFetcher([this] { return Fetch(); }, min_interval, timeout, clock);
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int entered_ = 0;
  int released_ = 0;
  absl::Status answer_;
  steady_clock::time_point now_ = steady_clock::now();
};

TEST_CASE("Concurrent callers share one in-flight fetch", "[pod-list-fetcher]") {
  FakeKubelet kubelet;
  PodListFetcher fetcher = kubelet.MakeFetcher(500ms, 10s);
  constexpr int kCallers = 50;
  std::vector<PodListFetcher::Pods> results(kCallers, absl::UnknownError("not called"));

  std::vector<std::thread> callers;
  for (int i = 0; i < kCallers; ++i) {
    callers.emplace_back([&, i] { results[i] = fetcher.Get().pods; });
  }
  REQUIRE(kubelet.WaitEntered(1));
  kubelet.Release();
  for (std::thread& caller : callers) {
    caller.join();
  }

  CHECK(kubelet.entered() == 1);
  CHECK(fetcher.fetches_started() == 1);
  for (const PodListFetcher::Pods& result : results) {
    CHECK(result.ok());
  }
}

TEST_CASE("A fetch starts at most once per min interval, failures included", "[pod-list-fetcher]") {
  FakeKubelet kubelet;
  kubelet.Release(100);  // fetches return at once
  PodListFetcher fetcher = kubelet.MakeFetcher(500ms, 10s);
  kubelet.Fail(absl::UnavailableError("HTTP 503"));

  CHECK(fetcher.Get().pods.status().code() == absl::StatusCode::kUnavailable);
  kubelet.Fail(absl::OkStatus());
  kubelet.Advance(499ms);
  // Within the interval: the cached failure, no new request.
  CHECK(fetcher.Get().pods.status().code() == absl::StatusCode::kUnavailable);
  CHECK(kubelet.entered() == 1);

  kubelet.Advance(1ms);
  CHECK(fetcher.Get().pods.ok());
  CHECK(kubelet.entered() == 2);
  CHECK(fetcher.Get().pods.ok());
  CHECK(kubelet.entered() == 2);
}

TEST_CASE("A fetch older than the timeout is abandoned and its late result dropped",
          "[pod-list-fetcher]") {
  FakeKubelet kubelet;
  PodListFetcher fetcher = kubelet.MakeFetcher(0ms, 200ms, /*fake_clock=*/false);

  auto start = steady_clock::now();
  PodListFetcher::Pods first = fetcher.Get().pods;
  auto waited = steady_clock::now() - start;

  CHECK(first.status().code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(waited >= 200ms);
  CHECK(waited < 200ms + 2s);  // a bound, not a benchmark

  // The next caller starts a new fetch; it runs once the hung one returns.
  kubelet.Release(1);
  CHECK(fetcher.Get().pods.ok());
  CHECK(kubelet.entered() == 2);
}

TEST_CASE("Callers that need a list newer than the last share the next fetch the interval allows",
          "[pod-list-fetcher]") {
  constexpr auto kInterval = 100ms;
  constexpr int kCallers = 10;
  FakeKubelet kubelet;
  kubelet.Release(100);  // fetches return at once
  PodListFetcher fetcher = kubelet.MakeFetcher(kInterval, 10s, /*fake_clock=*/false);
  PodListFetcher::Fetched first = fetcher.Get();
  steady_clock::time_point process_started = steady_clock::now();

  std::vector<PodListFetcher::Fetched> results(kCallers);
  std::vector<std::thread> callers;
  for (int i = 0; i < kCallers; ++i) {
    callers.emplace_back([&, i] { results[i] = fetcher.Get(process_started); });
  }
  for (std::thread& caller : callers) {
    caller.join();
  }

  CHECK(kubelet.entered() == 2);
  for (const PodListFetcher::Fetched& result : results) {
    CHECK(result.pods.ok());
    CHECK(result.started >= process_started);
    CHECK(result.started - first.started >= kInterval);
  }
}

}  // namespace
}  // namespace reattest::attestors
