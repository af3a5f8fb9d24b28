// A server-streaming call whose messages the supervisor pushes (SPEC
// sections 3 and 4): X.509-SVIDs, bundles. Bridges gRPC's callback reactor
// and the loop-owned StreamSink.
//
// Threading: the supervisor calls Deliver() and End() on the loop thread,
// and every StartWrite()/Finish() happens there too. gRPC's reactions
// (OnWriteDone, OnCancel, OnDone) run on gRPC threads and only post to the
// loop. The object is deleted on the loop after OnDone, so closures posted
// earlier never see a dangling `this`.
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>

#include "metrics/metrics.h"
#include "streams/grpc_status.h"
#include "streams/render_cache.h"
#include "supervisor/event_loop.h"
#include "supervisor/stream_sink.h"
#include "supervisor/supervisor.h"

namespace reattest::streams {

template <typename Response>
class PushStream : public grpc::ServerWriteReactor<Response>, public supervisor::StreamSink {
 public:
  using Cache = RenderCache<Response>;

  // `cache` renders for every stream of this method; see RenderCache.
  PushStream(supervisor::EventLoop& loop, supervisor::Supervisor& supervisor,
             metrics::Metrics& metrics, supervisor::Api api, std::shared_ptr<Cache> cache)
      : loop_(loop), supervisor_(supervisor), metrics_(metrics), api_(api), cache_(cache) {}

  // gRPC thread, right after construction.
  void Open(const supervisor::ConnectionInfo& caller) {
    if (!loop_.Post([this, caller] { supervisor_.AttachStream(this, caller); })) {
      this->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "agent shutting down"));
    }
  }

  supervisor::Api api() const override { return api_; }

  void Deliver(const supervisor::WorkloadIdentity& identity) override {
    if (ended_) {
      return;
    }
    typename Cache::Rendered next = cache_->Render(identity);
    // Coalesce to the latest state, and never repeat what the client has.
    if (SameBytes(next.bytes, pending_.message ? pending_.bytes : written_bytes_)) {
      return;
    }
    if (SameBytes(next.bytes, written_bytes_)) {
      pending_ = {};
      return;
    }
    pending_ = std::move(next);
    MaybeWrite();
  }

  void End(const absl::Status& status) override {
    if (ended_) {
      return;
    }
    ended_ = true;
    pending_ = {};
    finish_status_ = ToGrpcStatus(status);
    MaybeFinish();
  }

  void OnWriteDone(bool ok) override {
    loop_.Post([this] {
      writing_ = false;
      in_flight_.reset();
      MaybeWrite();
      MaybeFinish();
    });
  }

  void OnCancel() override {
    loop_.Post([this] {
      if (!ended_) {
        supervisor_.DetachStream(this);
        End(absl::CancelledError("client cancelled"));
      }
    });
  }

  void OnDone() override {
    if (!loop_.Post([this] { delete this; })) {
      delete this;  // the loop is gone, and with it anything that could refer to us
    }
  }

 private:
  void MaybeWrite() {
    if (writing_ || ended_ || !pending_.message) {
      return;
    }
    writing_ = true;
    in_flight_ = std::move(pending_.message);
    written_bytes_ = std::move(pending_.bytes);
    pending_ = {};
    metrics_.RecordPush(supervisor::ApiName(api_));
    this->StartWrite(in_flight_.get());
  }

  static bool SameBytes(const std::shared_ptr<const std::string>& a,
                        const std::shared_ptr<const std::string>& b) {
    return a == b || (a != nullptr && b != nullptr && *a == *b);
  }

  // gRPC allows one Finish, and only with no write in flight.
  void MaybeFinish() {
    if (ended_ && !writing_ && !finished_) {
      finished_ = true;
      this->Finish(finish_status_);
    }
  }

  supervisor::EventLoop& loop_;
  supervisor::Supervisor& supervisor_;
  metrics::Metrics& metrics_;
  const supervisor::Api api_;
  const std::shared_ptr<Cache> cache_;

  // Loop thread only. Messages are shared with the cache and other streams,
  // never modified.
  std::shared_ptr<const Response> in_flight_;
  typename Cache::Rendered pending_;
  std::shared_ptr<const std::string> written_bytes_;  // the last message handed to gRPC
  bool writing_ = false;
  bool ended_ = false;
  bool finished_ = false;
  grpc::Status finish_status_;
};

// A streaming call refused before it reached the supervisor (missing header,
// unknown caller): finishes at once and deletes itself.
template <typename Response>
class RejectedStream : public grpc::ServerWriteReactor<Response> {
 public:
  explicit RejectedStream(const grpc::Status& status) { this->Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace reattest::streams
