#include "streams/workload_api.h"

#include "streams/grpc_status.h"
#include "streams/held_call.h"
#include "streams/jwt_answers.h"
#include "streams/push_stream.h"

namespace reattest::streams {
namespace {

constexpr char kSecurityHeader[] = "workload.spiffe.io";

}  // namespace

absl::StatusOr<supervisor::ConnectionInfo> WorkloadApiService::Admit(
    grpc::CallbackServerContext* context) const {
  const auto& metadata = context->client_metadata();
  auto header = metadata.find(kSecurityHeader);
  if (header == metadata.end() || header->second != "true") {
    return absl::InvalidArgumentError("security header missing from request");
  }
  std::optional<supervisor::ConnectionInfo> caller = connections_.Lookup(context->peer());
  if (!caller) {
    // Only connections accepted by our listener reach the server.
    return absl::UnauthenticatedError("caller was not identified at connect");
  }
  return *caller;
}

template <typename Response>
grpc::ServerWriteReactor<Response>* WorkloadApiService::OpenPush(
    grpc::CallbackServerContext* context, supervisor::Api api,
    std::shared_ptr<RenderCache<Response>> cache) {
  absl::StatusOr<supervisor::ConnectionInfo> caller = Admit(context);
  if (!caller.ok()) {
    return new RejectedStream<Response>(ToGrpcStatus(caller.status()));
  }
  auto* stream = new PushStream<Response>(loop_, supervisor_, metrics_, api, std::move(cache));
  stream->Open(*caller);
  return stream;
}

grpc::ServerUnaryReactor* WorkloadApiService::Hold(grpc::CallbackServerContext* context,
                                                   const grpc::Status& request_status,
                                                   HeldCall::Options options) {
  absl::StatusOr<supervisor::ConnectionInfo> caller = Admit(context);
  if (!caller.ok() || !request_status.ok()) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(caller.ok() ? request_status : ToGrpcStatus(caller.status()));
    return reactor;
  }
  auto* call = new HeldCall(loop_, supervisor_, std::move(options));
  call->Open(*caller);
  return call;
}

grpc::ServerWriteReactor<X509SVIDResponse>* WorkloadApiService::FetchX509SVID(
    grpc::CallbackServerContext* context, const X509SVIDRequest* request) {
  return OpenPush(context, supervisor::Api::kX509Svid, x509_svids_);
}

grpc::ServerWriteReactor<X509BundlesResponse>* WorkloadApiService::FetchX509Bundles(
    grpc::CallbackServerContext* context, const X509BundlesRequest* request) {
  return OpenPush(context, supervisor::Api::kX509Bundles, x509_bundles_);
}

grpc::ServerWriteReactor<JWTBundlesResponse>* WorkloadApiService::FetchJWTBundles(
    grpc::CallbackServerContext* context, const JWTBundlesRequest* request) {
  return OpenPush(context, supervisor::Api::kJwtBundles, jwt_bundles_);
}

// The request and response outlive the call's answer: gRPC frees them after
// Finish(), which comes after the answer.
grpc::ServerUnaryReactor* WorkloadApiService::FetchJWTSVID(grpc::CallbackServerContext* context,
                                                           const JWTSVIDRequest* request,
                                                           JWTSVIDResponse* response) {
  HeldCall::Options options{.api = supervisor::Api::kJwtSvid,
                            .answer =
                                [request, response](const supervisor::WorkloadIdentity& identity) {
                                  return AnswerJwtSvid(identity, *request, *response);
                                },
                            .serves_without_identity = false,
                            .satisfied =
                                [request](const supervisor::WorkloadIdentity& identity) {
                                  return HasRequestedIdentity(identity, *request);
                                }};
  return Hold(context, CheckJwtSvidRequest(*request), std::move(options));
}

// A caller without an identity may still validate against its own trust
// domain: the call waits only for the first attestation, to learn which
// bundles the caller federates with.
grpc::ServerUnaryReactor* WorkloadApiService::ValidateJWTSVID(grpc::CallbackServerContext* context,
                                                              const ValidateJWTSVIDRequest* request,
                                                              ValidateJWTSVIDResponse* response) {
  HeldCall::Options options{.api = supervisor::Api::kValidateJwtSvid,
                            .answer =
                                [request, response](const supervisor::WorkloadIdentity& identity) {
                                  return AnswerValidate(identity, *request, *response);
                                },
                            .serves_without_identity = true,
                            .satisfied = nullptr};
  return Hold(context, CheckValidateRequest(*request), std::move(options));
}

}  // namespace reattest::streams
