// Runs a real Supervisor on a real event loop in a background thread, with
// scripted attestors and recording stream sinks: the supervisor's behaviour
// without gRPC (SPEC section 11).
#pragma once

#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>

#include "attestors/attestor.h"
#include "supervisor/supervisor.h"
#include "tests/support/wait.h"

namespace reattest::testing {

// An attestor whose answers the test scripts: queued results first, then
// the fallback. Thread-safe; counts its calls.
class ScriptedAttestor : public attestors::Attestor {
 public:
  ScriptedAttestor(std::string name, attestors::WorkKind kind)
      : name_(std::move(name)), kind_(kind) {}

  std::string_view name() const override { return name_; }
  attestors::WorkKind work_kind() const override { return kind_; }
  Duration timeout() const override { return timeout_; }

  attestors::AttestResult Attest(const attestors::AttestRequest& request) override {
    std::unique_lock<std::mutex> lock(mutex_);
    ++calls_;
    attestors::AttestResult result = fallback_;
    if (!script_.empty()) {
      result = script_.front();
      script_.pop_front();
    }
    Duration delay = delay_;
    lock.unlock();
    std::this_thread::sleep_for(delay);
    return result;
  }

  void Queue(attestors::AttestResult result) {
    std::lock_guard<std::mutex> lock(mutex_);
    script_.push_back(std::move(result));
  }
  void SetFallback(attestors::AttestResult result) {
    std::lock_guard<std::mutex> lock(mutex_);
    fallback_ = std::move(result);
  }
  // Simulates a slow lookup.
  void SetDelay(Duration delay) {
    std::lock_guard<std::mutex> lock(mutex_);
    delay_ = delay;
  }
  void SetTimeout(Duration timeout) { timeout_ = timeout; }
  int calls() {
    std::lock_guard<std::mutex> lock(mutex_);
    return calls_;
  }

 private:
  const std::string name_;
  const attestors::WorkKind kind_;
  Duration timeout_ = Duration::zero();
  std::mutex mutex_;
  std::deque<attestors::AttestResult> script_;
  attestors::AttestResult fallback_;
  Duration delay_ = Duration::zero();
  int calls_ = 0;
};

inline attestors::AttestResult Ok(SelectorSet selectors) {
  attestors::AttestResult result;
  result.outcome = Outcome::kOk;
  result.selectors = std::move(selectors);
  return result;
}

inline attestors::AttestResult Failed(Outcome outcome) {
  attestors::AttestResult result;
  result.outcome = outcome;
  result.reason = "scripted failure";
  return result;
}

// Records what the supervisor tells a stream. The supervisor calls it on the
// loop thread; the test reads it from its own.
class RecordingSink : public supervisor::StreamSink {
 public:
  supervisor::Api api() const override { return supervisor::Api::kX509Svid; }

  void Deliver(const supervisor::WorkloadIdentity& identity) override {
    std::vector<std::string> ids;
    for (size_t index : identity.matched) {
      ids.push_back(identity.snapshot->entries[index].spiffe_id.str());
    }
    std::lock_guard<std::mutex> lock(mutex_);
    deliveries_.push_back(std::move(ids));
    changed_.notify_all();
  }

  void End(const absl::Status& status) override {
    std::lock_guard<std::mutex> lock(mutex_);
    ended_ = status;
    changed_.notify_all();
  }

  // Waits until at least `count` deliveries arrived.
  bool WaitDeliveries(size_t count, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return deliveries_.size() >= count; });
  }
  std::optional<absl::Status> WaitEnded(
      std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait_for(lock, timeout, [&] { return ended_.has_value(); });
    return ended_;
  }
  std::vector<std::vector<std::string>> deliveries() {
    std::lock_guard<std::mutex> lock(mutex_);
    return deliveries_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::vector<std::string>> deliveries_;
  std::optional<absl::Status> ended_;
};

// A snapshot whose entries each need the listed selectors; no certificates
// (the supervisor only matches; rendering is the streams' job).
inline std::shared_ptr<const identity::IdentitySnapshot> Snapshot(
    const std::vector<std::pair<std::string, std::vector<std::string>>>& entries) {
  auto snapshot = std::make_shared<identity::IdentitySnapshot>();
  snapshot->trust_domain = "example.org";
  for (const auto& [path, selectors] : entries) {
    snapshot->entries.push_back(identity::Entry{
        .spiffe_id = *SpiffeId::Parse("spiffe://example.org" + path), .selectors = selectors});
    snapshot->svids.push_back(nullptr);
  }
  return snapshot;
}

inline supervisor::ConnectionInfo ConnectionOf(pid_t pid) {
  supervisor::ConnectionInfo info;
  info.pid = pid;
  info.uid = 0;
  info.gid = 0;
  info.pidfd = std::make_shared<const Pidfd>(*Pidfd::Open(pid));
  return info;
}

class SupervisorHarness {
 public:
  // Takes ownership of the attestors; keep raw pointers to script them.
  SupervisorHarness(std::vector<std::unique_ptr<attestors::Attestor>> attestors,
                    supervisor::SupervisorOptions options)
      : pool_(2) {
    loop_thread_ = std::thread([&] { loop_.Run(); });
    OnLoop([&] {
      supervisor_ = std::make_unique<supervisor::Supervisor>(loop_, std::move(options),
                                                             std::move(attestors), pool_, metrics_);
    });
  }

  ~SupervisorHarness() {
    OnLoop([&] {
      supervisor_->Shutdown(absl::UnavailableError("test over"));
      supervisor_.reset();
      loop_.Stop();
    });
    loop_thread_.join();
  }

  // Runs `fn` on the loop thread and waits for it.
  template <typename Fn>
  auto OnLoop(Fn fn) -> decltype(fn()) {
    std::packaged_task<decltype(fn())()> task(std::move(fn));
    auto result = task.get_future();
    loop_.Post([&task] { task(); });
    return result.get();
  }

  supervisor::Supervisor& supervisor() { return *supervisor_; }
  metrics::Metrics& metrics() { return metrics_; }

  void Attach(supervisor::StreamSink& sink, pid_t pid) {
    supervisor::ConnectionInfo connection = ConnectionOf(pid);
    OnLoop([&] { supervisor_->AttachStream(&sink, connection); });
  }
  void SetIdentity(std::shared_ptr<const identity::IdentitySnapshot> snapshot) {
    OnLoop([&] { supervisor_->SetIdentity(snapshot); });
  }
  std::optional<supervisor::WorkloadView> View(pid_t pid) {
    return OnLoop([&]() -> std::optional<supervisor::WorkloadView> {
      for (const supervisor::WorkloadView& view : supervisor_->Describe()) {
        if (view.pid == pid) {
          return view;
        }
      }
      return std::nullopt;
    });
  }

 private:
  metrics::Metrics metrics_{{"unix", "docker"}, "test"};
  supervisor::EventLoop loop_;
  supervisor::WorkerPool pool_;
  std::thread loop_thread_;
  std::unique_ptr<supervisor::Supervisor> supervisor_;
};

}  // namespace reattest::testing
