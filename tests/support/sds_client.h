// SDS clients for end-to-end tests that behave like Envoy: the first request
// of a stream carries the node, every later one the last accepted version
// and the nonce it answers; a reconnect names the old version with an empty
// nonce. Responses are queued by a reader thread so a test can wait for the
// next one with a deadline.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "envoy/extensions/transport_sockets/tls/v3/secret.pb.h"
#include "envoy/service/secret/v3/sds.grpc.pb.h"

namespace reattest::testing {

namespace discovery = envoy::service::discovery::v3;
using envoy::extensions::transport_sockets::tls::v3::Secret;

inline constexpr char kSecretType[] =
    "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";

// Messages received on a stream, then its status. Thread-safe.
template <typename Message>
class MessageQueue {
 public:
  void Push(Message message) {
    std::lock_guard<std::mutex> lock(mutex_);
    messages_.push_back(std::move(message));
    changed_.notify_all();
  }
  void Close(grpc::Status status) {
    std::lock_guard<std::mutex> lock(mutex_);
    status_ = std::move(status);
    changed_.notify_all();
  }
  // The next message, or nullopt if none arrives within `timeout` or the
  // stream ended.
  std::optional<Message> Next(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait_for(lock, timeout, [this] { return !messages_.empty() || status_; });
    if (messages_.empty()) {
      return std::nullopt;
    }
    Message message = std::move(messages_.front());
    messages_.pop_front();
    return message;
  }
  grpc::Status Finish(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (!changed_.wait_for(lock, timeout, [this] { return status_.has_value(); })) {
      return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "test: stream did not end in time");
    }
    return *status_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Message> messages_;        // guarded by mutex_
  std::optional<grpc::Status> status_;  // guarded by mutex_
};

// Node metadata of an Envoy that turns SPIFFE validation off for itself.
google::protobuf::Struct DisableValidationMetadata();

// One bidirectional SDS call on its own connection, its responses queued.
template <typename Request, typename Response>
class SdsCall {
 public:
  using Stub = envoy::service::secret::v3::SecretDiscoveryService::Stub;
  using Open =
      std::unique_ptr<grpc::ClientReaderWriter<Request, Response>> (Stub::*)(grpc::ClientContext*);

  SdsCall(const std::string& socket_path, Open open);
  ~SdsCall() {
    context_.TryCancel();
    reader_.join();
  }

  void Send(const Request& request) { stream_->Write(request); }
  std::optional<Response> Next(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    return responses_.Next(timeout);
  }
  grpc::Status Finish(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    return responses_.Finish(timeout);
  }

 private:
  std::unique_ptr<Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<Request, Response>> stream_;
  MessageQueue<Response> responses_;
  std::thread reader_;
};

// StreamSecrets (state of the world).
class SotwSdsClient : public SdsCall<discovery::DiscoveryRequest, discovery::DiscoveryResponse> {
 public:
  explicit SotwSdsClient(const std::string& socket_path,
                         const google::protobuf::Struct& node_metadata = {});

  // The first request of the stream: the node, `names`, and the version of
  // an earlier stream when reconnecting; the nonce is empty.
  void Subscribe(const std::vector<std::string>& names, const std::string& version_info = "");
  // Accepts `response`: its version and nonce, the current names.
  void Ack(const discovery::DiscoveryResponse& response);
  // Rejects `response`: the last accepted version, its nonce and an error.
  void Nack(const discovery::DiscoveryResponse& response);
  // Asks for other names, answering the last response acknowledged.
  void ChangeNames(const std::vector<std::string>& names);

 private:
  discovery::DiscoveryRequest Answer(const std::string& nonce) const;

  google::protobuf::Struct node_metadata_;
  std::vector<std::string> names_;
  std::string accepted_version_;
  std::string last_nonce_;
};

// DeltaSecrets (incremental).
class DeltaSdsClient
    : public SdsCall<discovery::DeltaDiscoveryRequest, discovery::DeltaDiscoveryResponse> {
 public:
  explicit DeltaSdsClient(const std::string& socket_path);

  // The first request: the node, `names` (none or `*`: wildcard) and, when
  // reconnecting, the versions the client already has.
  void Subscribe(const std::vector<std::string>& names,
                 const std::map<std::string, std::string>& initial_versions = {});
  // ACKs `response`, subscribing to and unsubscribing from names in the same request.
  void Ack(const discovery::DeltaDiscoveryResponse& response,
           const std::vector<std::string>& subscribe = {},
           const std::vector<std::string>& unsubscribe = {});
};

// FetchSecrets for `names` on a new connection.
grpc::Status FetchSecrets(const std::string& socket_path, const std::vector<std::string>& names,
                          discovery::DiscoveryResponse& response);

// The secrets of a response, decoded, in order.
std::vector<Secret> SecretsOf(const discovery::DiscoveryResponse& response);
std::vector<Secret> SecretsOf(const discovery::DeltaDiscoveryResponse& response);
std::vector<std::string> NamesOf(const std::vector<Secret>& secrets);

}  // namespace reattest::testing
