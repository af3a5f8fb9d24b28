// The baseline: a bare gRPC C++ callback server on a Unix socket that answers
// FetchX509SVID with a fixed response (captured from reattest, so the size is
// real) and, on SIGUSR1, pushes a changed one to every open stream. No peer
// credentials, attestation or supervisor: what any Workload API server costs
// at least, measured by the same client in the same run.
//
//   bench_baseline SOCKET_PATH RESPONSE_FILE
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

#include "absl/synchronization/mutex.h"
#include "workload.grpc.pb.h"

namespace reattest::bench {
namespace {

class Baseline final : public SpiffeWorkloadAPI::CallbackService {
 public:
  explicit Baseline(X509SVIDResponse response) : current_(std::move(response)) {}

  grpc::ServerWriteReactor<X509SVIDResponse>* FetchX509SVID(grpc::CallbackServerContext*,
                                                            const X509SVIDRequest*) override {
    auto* stream = new Stream(*this);
    std::lock_guard<std::mutex> lock(mutex_);
    streams_.insert(stream);
    stream->Offer(current_);
    return stream;
  }

  // A changed response for every open stream, as an entries edit would be.
  void Change() {
    std::lock_guard<std::mutex> lock(mutex_);
    current_.mutable_svids(0)->set_hint(current_.svids(0).hint() == "a" ? "b" : "a");
    for (Stream* stream : streams_) {
      stream->Offer(current_);
    }
  }

 private:
  // One write in flight; a newer message replaces a queued one.
  class Stream : public grpc::ServerWriteReactor<X509SVIDResponse> {
   public:
    explicit Stream(Baseline& server) : server_(server) {}

    // Called with server_.mutex_ held.
    void Offer(const X509SVIDResponse& message) {
      pending_ = message;
      has_pending_ = true;
      if (!writing_) {
        WritePending();
      }
    }

    void OnWriteDone(bool ok) override {
      std::lock_guard<std::mutex> lock(server_.mutex_);
      writing_ = false;
      if (ok && has_pending_) {
        WritePending();
      }
    }

    void OnCancel() override { Finish(grpc::Status::CANCELLED); }

    void OnDone() override {
      {
        std::lock_guard<std::mutex> lock(server_.mutex_);
        server_.streams_.erase(this);
      }
      delete this;
    }

   private:
    void WritePending() {
      in_flight_ = pending_;
      has_pending_ = false;
      writing_ = true;
      StartWrite(&in_flight_);
    }

    Baseline& server_;
    X509SVIDResponse pending_, in_flight_;
    bool has_pending_ = false;
    bool writing_ = false;
  };

  std::mutex mutex_;
  X509SVIDResponse current_;   // guarded by mutex_
  std::set<Stream*> streams_;  // guarded by mutex_
};

}  // namespace
}  // namespace reattest::bench

int main(int argc, char** argv) {
  using namespace reattest::bench;
  if (argc != 3) {
    std::fprintf(stderr, "usage: bench_baseline SOCKET_PATH RESPONSE_FILE\n");
    return 2;
  }
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  std::ifstream file(argv[2], std::ios::binary);
  std::stringstream bytes;
  bytes << file.rdbuf();
  X509SVIDResponse response;
  if (!response.ParseFromString(bytes.str()) || response.svids_size() == 0) {
    std::fprintf(stderr, "bench_baseline: %s holds no X509SVIDResponse\n", argv[2]);
    return 1;
  }

  // SIGUSR1 is taken synchronously by a thread of our own.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGUSR1);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  unlink(argv[1]);
  Baseline service(response);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(std::string("unix:") + argv[1], grpc::InsecureServerCredentials());
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) {
    std::fprintf(stderr, "bench_baseline: cannot listen on %s\n", argv[1]);
    return 1;
  }
  for (int signal = 0; sigwait(&signals, &signal) == 0 && signal == SIGUSR1;) {
    service.Change();
  }
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  return 0;
}
