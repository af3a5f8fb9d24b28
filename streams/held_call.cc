#include "streams/held_call.h"

#include <memory>

#include "streams/grpc_status.h"

namespace reattest::streams {

void HeldCall::Open(const supervisor::ConnectionInfo& caller) {
  if (!loop_.Post([this, caller] { supervisor_.AttachStream(this, caller); })) {
    Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "agent shutting down"));
  }
}

bool HeldCall::satisfied_by(const supervisor::WorkloadIdentity& identity) const {
  return options_.satisfied ? options_.satisfied(identity) : identity.has_identity();
}

void HeldCall::Deliver(const supervisor::WorkloadIdentity& identity) {
  if (answered_) {
    return;
  }
  answered_ = true;
  // One answer per call: later identity changes are not ours to see.
  supervisor_.DetachStream(this);
  auto status = std::make_shared<grpc::Status>();
  loop_.QueueWork([this, identity, status] { *status = options_.answer(identity); },
                  [this, status] { Finish(*status); });
}

void HeldCall::End(const absl::Status& status) {
  if (answered_) {
    return;
  }
  answered_ = true;
  Finish(ToGrpcStatus(status));
}

void HeldCall::OnCancel() {
  loop_.Post([this] {
    if (!answered_) {
      supervisor_.DetachStream(this);
      End(absl::CancelledError("client cancelled"));
    }
  });
}

void HeldCall::OnDone() {
  if (!loop_.Post([this] { delete this; })) {
    delete this;  // the loop is gone, and with it anything that could refer to us
  }
}

}  // namespace reattest::streams
