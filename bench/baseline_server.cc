// The baseline: a bare gRPC C++ callback server on a Unix socket that answers
// FetchX509SVID and Envoy's StreamSecrets with fixed responses (captured from
// reattest, so the sizes are real) and, on SIGUSR1, pushes a changed one to
// every open stream. No peer credentials, attestation, supervisor or xDS
// state machine: what any Workload API or SDS server costs at least,
// measured by the same client in the same run.
//
//   bench_baseline SOCKET_PATH X509_RESPONSE_FILE SDS_RESPONSE_FILE
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

#include "absl/synchronization/mutex.h"
#include "envoy/service/secret/v3/sds.grpc.pb.h"
#include "workload.grpc.pb.h"

namespace reattest::bench {
namespace {

using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;
using envoy::service::secret::v3::SecretDiscoveryService;

template <typename Reactor, typename Message>
class PushStream;

// The open streams of one API and the message they are offered.
template <typename Reactor, typename Message>
struct Board {
  // A changed message for every open stream, as an entries edit would be.
  template <typename Edit>
  void Change(Edit change) {
    std::lock_guard<std::mutex> lock(mutex);
    change(current);
    for (auto* stream : streams) {
      stream->Offer(current);
    }
  }

  std::mutex mutex;
  Message current;                                  // guarded by mutex
  std::set<PushStream<Reactor, Message>*> streams;  // guarded by mutex
};

// A server stream that pushes `Message`s: one write in flight; a newer
// message replaces a queued one. `Reactor` is the call's server reactor.
template <typename Reactor, typename Message>
class PushStream : public Reactor {
 public:
  // Registers the stream and offers it the current message.
  explicit PushStream(Board<Reactor, Message>& board) : board_(board) {
    std::lock_guard<std::mutex> lock(board_.mutex);
    board_.streams.insert(this);
  }

  // Called with board_.mutex held.
  void Offer(const Message& message) {
    pending_ = message;
    has_pending_ = true;
    if (!writing_) {
      WritePending();
    }
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard<std::mutex> lock(board_.mutex);
    writing_ = false;
    if (ok && has_pending_) {
      WritePending();
    }
  }

  void OnCancel() override { this->Finish(grpc::Status::CANCELLED); }

  void OnDone() override {
    {
      std::lock_guard<std::mutex> lock(board_.mutex);
      board_.streams.erase(this);
    }
    delete this;
  }

 protected:
  Board<Reactor, Message>& board_;

 private:
  void WritePending() {
    in_flight_ = pending_;
    has_pending_ = false;
    writing_ = true;
    this->StartWrite(&in_flight_);
  }

  Message pending_, in_flight_;  // guarded by board_.mutex
  bool has_pending_ = false;     // guarded by board_.mutex
  bool writing_ = false;         // guarded by board_.mutex
};

using X509Reactor = grpc::ServerWriteReactor<X509SVIDResponse>;
using SdsReactor = grpc::ServerBidiReactor<DiscoveryRequest, DiscoveryResponse>;

class X509Baseline final : public SpiffeWorkloadAPI::CallbackService {
 public:
  explicit X509Baseline(X509SVIDResponse response) { board_.current = std::move(response); }

  X509Reactor* FetchX509SVID(grpc::CallbackServerContext*, const X509SVIDRequest*) override {
    auto* stream = new PushStream<X509Reactor, X509SVIDResponse>(board_);
    std::lock_guard<std::mutex> lock(board_.mutex);
    stream->Offer(board_.current);
    return stream;
  }

  void Change() {
    board_.Change([](X509SVIDResponse& message) {
      message.mutable_svids(0)->set_hint(message.svids(0).hint() == "a" ? "b" : "a");
    });
  }

 private:
  Board<X509Reactor, X509SVIDResponse> board_;
};

// StreamSecrets without xDS bookkeeping: a request without a nonce (a
// subscription) gets the current response, any other request (an ACK)
// nothing.
class SdsStream : public PushStream<SdsReactor, DiscoveryResponse> {
 public:
  explicit SdsStream(Board<SdsReactor, DiscoveryResponse>& board) : PushStream(board) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      return;
    }
    if (request_.response_nonce().empty()) {
      std::lock_guard<std::mutex> lock(board_.mutex);
      Offer(board_.current);
    }
    StartRead(&request_);
  }

 private:
  DiscoveryRequest request_;
};

class SdsBaseline final : public SecretDiscoveryService::CallbackService {
 public:
  explicit SdsBaseline(DiscoveryResponse response) { board_.current = std::move(response); }

  SdsReactor* StreamSecrets(grpc::CallbackServerContext*) override { return new SdsStream(board_); }

  void Change() {
    board_.Change([this](DiscoveryResponse& message) {
      ++changes_;
      message.set_version_info("baseline-" + std::to_string(changes_));
      message.set_nonce("baseline-nonce-" + std::to_string(changes_));
    });
  }

 private:
  Board<SdsReactor, DiscoveryResponse> board_;
  int changes_ = 0;  // guarded by board_.mutex
};

// The message serialized in `path`; false if there is none.
template <typename Message>
bool ReadMessage(const char* path, Message& message) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream bytes;
  bytes << file.rdbuf();
  return message.ParseFromString(bytes.str());
}

}  // namespace
}  // namespace reattest::bench

int main(int argc, char** argv) {
  using namespace reattest::bench;
  if (argc != 4) {
    std::fprintf(stderr,
                 "usage: bench_baseline SOCKET_PATH X509_RESPONSE_FILE SDS_RESPONSE_FILE\n");
    return 2;
  }
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  X509SVIDResponse x509_response;
  if (!ReadMessage(argv[2], x509_response) || x509_response.svids_size() == 0) {
    std::fprintf(stderr, "bench_baseline: %s holds no X509SVIDResponse\n", argv[2]);
    return 1;
  }
  DiscoveryResponse sds_response;
  if (!ReadMessage(argv[3], sds_response) || sds_response.resources_size() == 0) {
    std::fprintf(stderr, "bench_baseline: %s holds no DiscoveryResponse\n", argv[3]);
    return 1;
  }

  // SIGUSR1 is taken synchronously by a thread of our own.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGUSR1);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  unlink(argv[1]);
  X509Baseline x509(x509_response);
  SdsBaseline sds(sds_response);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(std::string("unix:") + argv[1], grpc::InsecureServerCredentials());
  builder.RegisterService(&x509);
  builder.RegisterService(&sds);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) {
    std::fprintf(stderr, "bench_baseline: cannot listen on %s\n", argv[1]);
    return 1;
  }
  for (int signal = 0; sigwait(&signals, &signal) == 0 && signal == SIGUSR1;) {
    x509.Change();
    sds.Change();
  }
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  return 0;
}
