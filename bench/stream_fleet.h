// Many streams of one API from one process, on the gRPC callback API so that
// ten thousand streams need a handful of threads. Each stream records when
// each of its messages arrived. Two APIs: FetchX509SVID (StreamFleet of
// X509SVIDResponse) and Envoy's StreamSecrets (of DiscoveryResponse), whose
// streams subscribe to `default` and `ROOTCA` and ACK every response as
// Envoy does.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "envoy/service/secret/v3/sds.grpc.pb.h"
#include "workload.grpc.pb.h"

namespace reattest::bench {

using Clock = std::chrono::steady_clock;
using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;
using envoy::service::secret::v3::SecretDiscoveryService;

inline constexpr char kSecretType[] =
    "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";

// A channel with a connection of its own (channels otherwise share one).
std::shared_ptr<grpc::Channel> UnixChannel(const std::string& socket_path);

// The service whose streams carry `Message`.
template <typename Message>
struct ServiceOf;
template <>
struct ServiceOf<X509SVIDResponse> {
  using Stub = SpiffeWorkloadAPI::Stub;
};
template <>
struct ServiceOf<DiscoveryResponse> {
  using Stub = SecretDiscoveryService::Stub;
};

template <typename Message>
class StreamFleet {
 public:
  StreamFleet();
  ~StreamFleet();
  StreamFleet(const StreamFleet&) = delete;
  StreamFleet& operator=(const StreamFleet&) = delete;

  // Opens `count` streams, `per_connection` on each new connection.
  void Open(const std::string& socket_path, int count, int per_connection);
  // Waits until every stream received at least `messages` messages; false
  // on timeout.
  bool WaitAll(int messages, std::chrono::milliseconds timeout);
  // When each stream received its `index`-th message (1-based), for the
  // streams that did.
  std::vector<Clock::time_point> ArrivalsOf(int index);
  // The last message received on stream `stream`.
  Message Last(size_t stream);

 private:
  // What the fleet reads of one stream; its watcher writes it. Guarded by mutex_.
  struct Record {
    std::vector<Clock::time_point> arrivals;
    Message last;
    bool done = false;
  };
  // One stream's reactor, per API (stream_fleet.cc); it holds a Record.
  class Watcher;

  // Called by the watchers' reactors.
  void Arrived(Record& record, Message& incoming);
  void Ended(Record& record);

  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<typename ServiceOf<Message>::Stub>> stubs_;
  std::vector<std::unique_ptr<Watcher>> watchers_;
  std::mutex mutex_;
  std::condition_variable changed_;
  // reached_[i]: streams that received at least i + 1 messages; guarded by mutex_.
  std::vector<size_t> reached_;
};

// Both are instantiated in stream_fleet.cc, where the watchers are.
extern template class StreamFleet<X509SVIDResponse>;
extern template class StreamFleet<DiscoveryResponse>;
using X509Fleet = StreamFleet<X509SVIDResponse>;
using SdsFleet = StreamFleet<DiscoveryResponse>;

}  // namespace reattest::bench
