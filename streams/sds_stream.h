// The SDS calls of one Envoy (SPEC section 4): StreamSecrets and
// DeltaSecrets as bidirectional streams, FetchSecrets as a unary call. Each
// is a stream of the caller's workload like any other (StreamSink), so
// re-attestation, last good selectors and pushes cover it; unlike Workload
// API streams it is served without an identity (bundles only) and never
// ends for lack of one.
//
// Threading, as in push_stream.h: the supervisor calls Deliver() and End()
// on the loop thread, and every StartWrite()/Finish() happens there. gRPC's
// reactions (OnReadDone, OnWriteDone, OnCancel, OnDone) run on gRPC threads
// and only post to the loop; requests are copied and handled on the loop in
// the order they arrived. The object is deleted on the loop after OnDone.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>

#include "envoy/service/discovery/v3/discovery.pb.h"
#include "metrics/metrics.h"
#include "streams/grpc_status.h"
#include "streams/sds_secret_cache.h"
#include "streams/sds_secrets.h"
#include "streams/sds_xds.h"
#include "supervisor/config.h"
#include "supervisor/event_loop.h"
#include "supervisor/stream_sink.h"
#include "supervisor/supervisor.h"

namespace reattest::streams {

namespace discovery = envoy::service::discovery::v3;

// What every SDS call needs; owned by the service, which outlives its calls.
struct SdsContext {
  supervisor::EventLoop& loop;
  supervisor::Supervisor& supervisor;
  metrics::Metrics& metrics;
  const supervisor::SdsConfig& config;
  SdsSecretCache& secrets;  // loop thread only
};

// Whether an Envoy's node metadata turns SPIFFE validation off for it
// (`disable_spiffe_cert_validation: true`).
bool NodeDisablesSpiffeValidation(const envoy::config::core::v3::Node& node);
// OK for the Secret type URL, or none (xDS lets a singleton service's client
// leave it out); InvalidArgument for any other.
absl::Status CheckTypeUrl(const std::string& type_url);

// The gRPC and supervisor plumbing shared by StreamSecrets and DeltaSecrets;
// subclasses say how a request is taken and what to send next.
template <typename Request, typename Response>
class SdsBidiStream : public grpc::ServerBidiReactor<Request, Response>,
                      public supervisor::StreamSink {
 public:
  using RequestType = Request;
  using ResponseType = Response;

  SdsBidiStream(const SdsContext& context, const supervisor::ConnectionInfo& caller)
      : context_(context), caller_(caller) {}

  // gRPC thread, right after construction.
  void Open() {
    if (!context_.loop.Post([this] { context_.supervisor.AttachStream(this, caller_); })) {
      this->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "agent shutting down"));
      return;
    }
    this->StartRead(&incoming_);
  }

  supervisor::Api api() const override { return supervisor::Api::kSds; }
  bool serves_without_identity() const override { return true; }

  void Deliver(const supervisor::WorkloadIdentity& identity) override {
    identity_ = identity;
    Pump();
  }

  void End(const absl::Status& status) override {
    if (ended_) {
      return;
    }
    ended_ = true;
    finish_status_ = ToGrpcStatus(status);
    MaybeFinish();
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // The client closed its side (or the call is over): nothing more to serve.
      context_.loop.Post([this] { Close(absl::OkStatus()); });
      return;
    }
    auto request = std::make_shared<Request>(std::move(incoming_));
    incoming_.Clear();
    context_.loop.Post([this, request] {
      if (ended_) {
        return;
      }
      if (absl::Status type = CheckTypeUrl(request->type_url()); !type.ok()) {
        Close(type);
        return;
      }
      // Envoy sends its node on the first request only.
      if (request->has_node()) {
        node_id_ = request->node().id();
        node_disables_validation_ = NodeDisablesSpiffeValidation(request->node());
      }
      Take(*request);
      Pump();
    });
    this->StartRead(&incoming_);
  }

  void OnWriteDone(bool ok) override {
    context_.loop.Post([this] {
      writing_ = false;
      in_flight_.reset();
      Pump();
      MaybeFinish();
    });
  }

  void OnCancel() override {
    context_.loop.Post([this] { Close(absl::CancelledError("client cancelled")); });
  }

  void OnDone() override {
    if (!context_.loop.Post([this] { delete this; })) {
      delete this;  // the loop is gone, and with it anything that could refer to us
    }
  }

 protected:
  // Loop thread: one client request, of the right type.
  virtual void Take(const Request& request) = 0;
  // Loop thread, once the workload's identity is known and no write is in
  // flight: the next response to send, or null when nothing is due.
  virtual std::unique_ptr<Response> Next(const supervisor::WorkloadIdentity& identity) = 0;

  const supervisor::ConnectionInfo& caller() const { return caller_; }
  // The Envoy's node ID, from its first request; for logs.
  const std::string& node_id() const { return node_id_; }
  const SdsContext& context() const { return context_; }
  bool node_disables_validation() const { return node_disables_validation_; }

 private:
  // Ends the stream from our side: the supervisor forgets it first.
  void Close(const absl::Status& status) {
    if (!ended_) {
      context_.supervisor.DetachStream(this);
      End(status);
    }
  }

  void Pump() {
    if (writing_ || ended_ || !identity_) {
      return;
    }
    in_flight_ = Next(*identity_);
    if (!in_flight_) {
      return;
    }
    writing_ = true;
    context_.metrics.RecordPush(supervisor::ApiName(supervisor::Api::kSds));
    this->StartWrite(in_flight_.get());
  }

  // gRPC allows one Finish, and only with no write in flight.
  void MaybeFinish() {
    if (ended_ && !writing_ && !finished_) {
      finished_ = true;
      this->Finish(finish_status_);
    }
  }

  const SdsContext& context_;
  const supervisor::ConnectionInfo caller_;
  Request incoming_;  // gRPC threads: the read in progress

  // Loop thread only.
  std::string node_id_;
  bool node_disables_validation_ = false;
  std::optional<supervisor::WorkloadIdentity> identity_;
  std::unique_ptr<Response> in_flight_;
  bool writing_ = false;
  bool ended_ = false;
  bool finished_ = false;
  grpc::Status finish_status_;
};

// StreamSecrets: state-of-the-world xDS.
class SotwSdsStream final
    : public SdsBidiStream<discovery::DiscoveryRequest, discovery::DiscoveryResponse> {
 public:
  using SdsBidiStream::SdsBidiStream;

 protected:
  void Take(const discovery::DiscoveryRequest& request) override;
  std::unique_ptr<discovery::DiscoveryResponse> Next(
      const supervisor::WorkloadIdentity& identity) override;

 private:
  SotwSubscription subscription_;
};

// DeltaSecrets: incremental xDS.
class DeltaSdsStream final
    : public SdsBidiStream<discovery::DeltaDiscoveryRequest, discovery::DeltaDiscoveryResponse> {
 public:
  using SdsBidiStream::SdsBidiStream;

 protected:
  void Take(const discovery::DeltaDiscoveryRequest& request) override;
  std::unique_ptr<discovery::DeltaDiscoveryResponse> Next(
      const supervisor::WorkloadIdentity& identity) override;

 private:
  DeltaSubscription subscription_;
};

// FetchSecrets: the current secrets for the requested names, once the
// workload's first attestation is over.
class SdsFetch final : public grpc::ServerUnaryReactor, public supervisor::StreamSink {
 public:
  SdsFetch(const SdsContext& context, const supervisor::ConnectionInfo& caller,
           const discovery::DiscoveryRequest& request, discovery::DiscoveryResponse& response)
      : context_(context), caller_(caller), request_(request), response_(response) {}

  // gRPC thread, right after construction.
  void Open();

  supervisor::Api api() const override { return supervisor::Api::kSds; }
  bool serves_without_identity() const override { return true; }
  void Deliver(const supervisor::WorkloadIdentity& identity) override;
  void End(const absl::Status& status) override;

  void OnCancel() override;
  void OnDone() override;

 private:
  const SdsContext& context_;
  const supervisor::ConnectionInfo caller_;
  // gRPC keeps both alive until OnDone.
  const discovery::DiscoveryRequest& request_;
  discovery::DiscoveryResponse& response_;
  bool finished_ = false;  // loop thread only
};

// A bidirectional call refused before it reached the supervisor (unknown
// caller): finishes at once and deletes itself.
template <typename Request, typename Response>
class RejectedBidi : public grpc::ServerBidiReactor<Request, Response> {
 public:
  explicit RejectedBidi(const grpc::Status& status) { this->Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace reattest::streams
