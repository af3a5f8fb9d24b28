#include "cli/agent.h"

#include <sys/resource.h>
#include <uv.h>

#include <atomic>
#include <cstdlib>
#include <future>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "attestors/registry.h"
#include "common/log.h"
#include "common/peer.h"
#include "common/process.h"
#include "common/strings.h"
#include "metrics/http_endpoint.h"
#include "metrics/metrics.h"
#include "streams/api_server.h"
#include "streams/listener.h"
#include "supervisor/debug_view.h"
#include "supervisor/event_loop.h"
#include "supervisor/identity_feed.h"
#include "supervisor/supervisor.h"
#include "supervisor/worker_pool.h"

namespace reattest::cli {
namespace {

const log::Logger kLog("agent");

// Calls open after SIGTERM are ended by the supervisor first; this bounds
// how long the server then waits for them to flush.
constexpr auto kShutdownGrace = std::chrono::seconds(2);
// Network lookups block for up to their timeout; this many may wait at once.
constexpr size_t kNetworkThreads = 8;
constexpr auto kConnectionSweepInterval = std::chrono::seconds(1);
// How long health probes wait for the loop before calling it stuck.
constexpr auto kProbeDeadline = std::chrono::seconds(1);

// Thousands of streams need thousands of descriptors (SPEC section 3).
void RaiseFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return;
  }
  rlim_t soft_before = limit.rlim_cur;
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    limit.rlim_cur = soft_before;
  }
  kLog.Info("file descriptor limit", {{"soft_before", static_cast<uint64_t>(soft_before)},
                                      {"soft", static_cast<uint64_t>(limit.rlim_cur)},
                                      {"hard", static_cast<uint64_t>(limit.rlim_max)}});
}

// NOTES: Debian's Abseil runs deadlock detection on every mutex without NDEBUG.
void DisableMutexDeadlockDetection() {
#ifdef NDEBUG
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif
}

// A node agent in Kubernetes (the rule: the k8s attestor is configured; the
// sidecar variant uses the unix attestor) needs hostPID: true. Without it,
// callers from other pods arrive as PID 0 and are refused, and /proc shows
// only this pod.
void CheckHostPidNamespace(const supervisor::Config& config) {
  if (!config.attestors.k8s) {
    return;
  }
  absl::StatusOr<std::string> link = ReadLink(Concat(config.proc_root, "/self/ns/pid"));
  if (link.ok() && !IsInitialPidNamespace(*link)) {
    kLog.Error("k8s attestor configured but not in the host PID namespace: run with hostPID: true",
               {{"pid_namespace", *link}});
  }
}

// Tests select the pidfd fallback to exercise both pinning paths.
PidfdSource PidfdSourceFromEnvironment() {
  const char* value = std::getenv("REATTEST_PIDFD_SOURCE");
  std::string_view source = value == nullptr ? "" : value;
  if (source == "pidfd_open") {
    return PidfdSource::kPidfdOpen;
  }
  if (source == "peer") {
    return PidfdSource::kPeerPidfd;
  }
  return PidfdSource::kAuto;
}

// Everything that lives on the loop, torn down on the loop.
class Agent {
 public:
  explicit Agent(const supervisor::Config& config) : config_(config) {}

  int Run();

 private:
  absl::Status Assemble();
  std::vector<metrics::Route> HealthRoutes();
  void StartOnLoop();
  void BeginShutdown();
  void ForgetClosedConnections();
  void SweepConnections();
  void Reload();
  void ApplyReload(const supervisor::ConfigResult& result);
  void CloseSignals();

  supervisor::Config config_;
  std::unique_ptr<metrics::Metrics> metrics_;
  std::unique_ptr<metrics::HttpEndpoint> metrics_endpoint_;
  std::unique_ptr<metrics::HttpEndpoint> health_endpoint_;
  // Socket listening and identity source loaded; cleared at shutdown.
  std::atomic<bool> ready_{false};
  supervisor::EventLoop loop_;
  std::unique_ptr<supervisor::WorkerPool> network_pool_;
  std::unique_ptr<supervisor::Supervisor> supervisor_;
  std::unique_ptr<supervisor::IdentityFeed> feed_;
  std::unique_ptr<streams::Listener> listener_;
  std::unique_ptr<streams::ApiServer> server_;
  std::unique_ptr<supervisor::Timer> connection_sweep_;
  uv_signal_t sigterm_{}, sigint_{}, sighup_{};
  std::promise<void> stop_requested_;
  bool stopping_ = false;
};

absl::Status Agent::Assemble() {
  absl::StatusOr<std::vector<std::unique_ptr<attestors::Attestor>>> attestors =
      attestors::BuildAttestors(config_.attestors);
  if (!attestors.ok()) {
    return attestors.status();
  }
  std::vector<std::string> attestor_names;
  for (const auto& attestor : *attestors) {
    attestor_names.emplace_back(attestor->name());
  }
  metrics_ = std::make_unique<metrics::Metrics>(attestor_names, REATTEST_VERSION);
  if (config_.metrics_listen) {
    absl::StatusOr<std::unique_ptr<metrics::HttpEndpoint>> endpoint =
        metrics::HttpEndpoint::Start(*config_.metrics_listen, {metrics::MetricsRoute(*metrics_)});
    if (!endpoint.ok()) {
      return absl::Status(endpoint.status().code(),
                          Concat("metrics.listen: ", endpoint.status().message()));
    }
    metrics_endpoint_ = *std::move(endpoint);
  }

  if (config_.health_listen) {
    absl::StatusOr<std::unique_ptr<metrics::HttpEndpoint>> endpoint =
        metrics::HttpEndpoint::Start(*config_.health_listen, HealthRoutes());
    if (!endpoint.ok()) {
      return absl::Status(endpoint.status().code(),
                          Concat("health.listen: ", endpoint.status().message()));
    }
    health_endpoint_ = *std::move(endpoint);
  }

  network_pool_ = std::make_unique<supervisor::WorkerPool>(kNetworkThreads);
  supervisor::SupervisorOptions options;
  options.proc_root = config_.proc_root;
  options.reattestation = config_.reattestation;
  options.limits = config_.limits;
  supervisor_ = std::make_unique<supervisor::Supervisor>(loop_, options, *std::move(attestors),
                                                         *network_pool_, *metrics_);

  absl::StatusOr<std::unique_ptr<supervisor::IdentityFeed>> feed = supervisor::IdentityFeed::Create(
      loop_, config_, *metrics_,
      [this](auto snapshot) { supervisor_->SetIdentity(std::move(snapshot)); });
  if (!feed.ok()) {
    return feed.status();
  }
  feed_ = *std::move(feed);

  absl::StatusOr<std::unique_ptr<streams::Listener>> listener = streams::Listener::Bind(
      loop_, config_.socket_path, config_.socket_mode, PidfdSourceFromEnvironment());
  if (!listener.ok()) {
    return absl::Status(listener.status().code(),
                        Concat("socket_path: ", listener.status().message()));
  }
  listener_ = *std::move(listener);

  absl::StatusOr<std::unique_ptr<streams::ApiServer>> server =
      streams::ApiServer::Start(loop_, *supervisor_, *metrics_, config_.sds);
  if (!server.ok()) {
    return server.status();
  }
  server_ = *std::move(server);
  return absl::OkStatus();
}

// Handlers run on the HTTP server's threads; anything about workloads is
// asked of the loop, with a deadline so a stuck loop shows as unhealthy
// instead of hanging the probe.
std::vector<metrics::Route> Agent::HealthRoutes() {
  auto text = [](int status, std::string body) {
    return metrics::HttpResponse{status, "text/plain; charset=utf-8", std::move(body)};
  };
  return {
      {"/healthz",
       [this, text] {
         bool answered = loop_.Ask<bool>([] { return true; }, kProbeDeadline).has_value();
         return answered ? text(200, "ok\n") : text(503, "event loop not responding\n");
       }},
      {"/readyz",
       [this, text] { return ready_ ? text(200, "ready\n") : text(503, "not ready\n"); }},
      {"/debug/workloads",
       [this, text] {
         std::optional<std::vector<supervisor::WorkloadView>> views =
             loop_.Ask<std::vector<supervisor::WorkloadView>>(
                 [this] {
                   return supervisor_ ? supervisor_->Describe()
                                      : std::vector<supervisor::WorkloadView>{};
                 },
                 kProbeDeadline);
         if (!views) {
           return text(503, "event loop not responding\n");
         }
         return metrics::HttpResponse{200, "application/json",
                                      supervisor::RenderWorkloadsJson(*views)};
       }},
  };
}

// Closed connections free their per-user count and pidfd.
void Agent::ForgetClosedConnections() {
  for (const supervisor::ConnectionInfo& closed : server_->SweepClosed()) {
    supervisor_->OnConnectionClosed(closed);
  }
}

void Agent::SweepConnections() {
  ForgetClosedConnections();
  connection_sweep_->Start(kConnectionSweepInterval, [this] { SweepConnections(); });
}

void Agent::StartOnLoop() {
  if (absl::Status status = feed_->Start(); !status.ok()) {
    kLog.Error("identity source failed to start", {{"error", std::string(status.message())}});
  }
  listener_->Start([this](int fd, supervisor::ConnectionInfo info) {
    if (std::optional<supervisor::ConnectionInfo> closed = server_->Adopt(fd, info)) {
      supervisor_->OnConnectionClosed(*closed);
    }
    // Closed connections are noticed lazily; before refusing one, make sure
    // the count is current.
    if (supervisor_->AtConnectionLimit(info.uid)) {
      ForgetClosedConnections();
    }
    supervisor_->OnConnection(info);
  });
  connection_sweep_ = std::make_unique<supervisor::Timer>(loop_);
  SweepConnections();

  struct SignalSpec {
    uv_signal_t* handle;
    int signal;
  };
  for (SignalSpec spec : {SignalSpec{&sigterm_, SIGTERM}, SignalSpec{&sigint_, SIGINT},
                          SignalSpec{&sighup_, SIGHUP}}) {
    uv_signal_init(loop_.uv(), spec.handle);
    spec.handle->data = this;
    uv_signal_start(
        spec.handle,
        [](uv_signal_t* handle, int signal) {
          auto* agent = static_cast<Agent*>(handle->data);
          signal == SIGHUP ? agent->Reload() : agent->BeginShutdown();
        },
        spec.signal);
  }
  ready_ = true;
  kLog.Info("serving", {{"socket_path", config_.socket_path},
                        {"trust_domain", config_.trust_domain},
                        {"version", REATTEST_VERSION}});
}

// Loop thread. Ends every call with Unavailable, then lets main() shut the
// gRPC server down (which waits, so it cannot run on the loop).
void Agent::BeginShutdown() {
  if (stopping_) {
    return;
  }
  stopping_ = true;
  ready_ = false;
  kLog.Info("shutting down");
  listener_->Close();
  feed_->Stop();
  supervisor_->Shutdown(absl::UnavailableError("agent shutting down"));
  stop_requested_.set_value();
}

// SIGHUP (SPEC section 6): re-read and validate the file off the loop; an
// invalid file changes nothing; otherwise the schedule, the log level and the
// entries apply at once and other changed keys are reported as needing a
// restart. Streams are never dropped.
void Agent::Reload() {
  if (config_.file.empty()) {
    kLog.Info("SIGHUP: no config file (embedded default); re-reading the entries");
    feed_->Reload();
    return;
  }
  auto result = std::make_shared<supervisor::ConfigResult>();
  loop_.QueueWork([result, path = config_.file] { *result = supervisor::LoadConfigFile(path); },
                  [this, result] { ApplyReload(*result); });
}

void Agent::ApplyReload(const supervisor::ConfigResult& result) {
  if (stopping_) {
    return;
  }
  if (!result.config) {
    for (const std::string& error : result.errors) {
      kLog.Error("SIGHUP: config rejected, nothing changed", {{"error", error}});
    }
    metrics_->RecordConfigReload(false);
    return;
  }
  const supervisor::Config& fresh = *result.config;
  for (const std::string& key : supervisor::KeysNeedingRestart(config_, fresh)) {
    kLog.Warn("SIGHUP: changed key takes effect only after a restart", {{"key", key}});
  }
  log::SetLevel(fresh.log_level);
  config_.log_level = fresh.log_level;
  config_.reattestation = fresh.reattestation;
  supervisor_->SetReattestation(fresh.reattestation);
  feed_->Reload();
  metrics_->RecordConfigReload(true);
  kLog.Info("SIGHUP: config reloaded");
}

void Agent::CloseSignals() {
  for (uv_signal_t* handle : {&sigterm_, &sigint_, &sighup_}) {
    uv_close(reinterpret_cast<uv_handle_t*>(handle), nullptr);
  }
}

int Agent::Run() {
  RaiseFileLimit();
  DisableMutexDeadlockDetection();
  if (absl::Status status = Assemble(); !status.ok()) {
    kLog.Error("cannot start", {{"error", std::string(status.message())}});
    return 1;
  }

  loop_.Post([this] { StartOnLoop(); });
  std::thread loop_thread([this] { loop_.Run(); });

  stop_requested_.get_future().wait();
  // Its handlers ask the loop, which is about to go.
  health_endpoint_.reset();
  server_->Shutdown(kShutdownGrace);
  loop_.Post([this] {
    connection_sweep_.reset();
    supervisor_.reset();
    feed_.reset();
    listener_.reset();
    CloseSignals();
    loop_.Stop();
  });
  loop_thread.join();
  kLog.Info("stopped");
  return 0;
}

}  // namespace

int RunAgent(const supervisor::Config& config) {
  log::SetLevel(config.log_level);
  log::SetFormat(config.log_format);
  CheckHostPidNamespace(config);
  Agent agent(config);
  return agent.Run();
}

}  // namespace reattest::cli
