// A unary Workload API call answered from the caller's workload identity
// (FetchJWTSVID, ValidateJWTSVID). It attaches to the supervisor like a
// stream, so it follows the same waiting rule (SPEC section 4), and detaches
// at its first delivery: the answer is computed on the thread pool (it signs
// or verifies) and the call finished back on the loop.
//
// Threading: as PushStream. The supervisor calls Deliver() and End() on the
// loop; Finish() happens on the loop; gRPC's OnCancel and OnDone only post
// to it, and the object is deleted there after OnDone.
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>

#include "supervisor/event_loop.h"
#include "supervisor/stream_sink.h"
#include "supervisor/supervisor.h"

namespace reattest::streams {

class HeldCall final : public grpc::ServerUnaryReactor, public supervisor::StreamSink {
 public:
  // Runs on the thread pool; fills the call's response and returns its status.
  using Answer = std::function<grpc::Status(const supervisor::WorkloadIdentity&)>;
  using Predicate = std::function<bool(const supervisor::WorkloadIdentity&)>;

  struct Options {
    supervisor::Api api;
    Answer answer;
    // Answered once the first attestation ends, identity or not.
    bool serves_without_identity = false;
    // What the call waits for; unset: any identity.
    Predicate satisfied;
  };

  HeldCall(supervisor::EventLoop& loop, supervisor::Supervisor& supervisor, Options options)
      : loop_(loop), supervisor_(supervisor), options_(std::move(options)) {}

  // gRPC thread, right after construction.
  void Open(const supervisor::ConnectionInfo& caller);

  supervisor::Api api() const override { return options_.api; }
  bool serves_without_identity() const override { return options_.serves_without_identity; }
  bool satisfied_by(const supervisor::WorkloadIdentity& identity) const override;
  void Deliver(const supervisor::WorkloadIdentity& identity) override;
  void End(const absl::Status& status) override;

  void OnCancel() override;
  void OnDone() override;

 private:
  supervisor::EventLoop& loop_;
  supervisor::Supervisor& supervisor_;
  const Options options_;
  // Loop thread only: an answer is under way or sent; nothing else may finish.
  bool answered_ = false;
};

}  // namespace reattest::streams
