#include "streams/workload_api.h"

#include "streams/grpc_status.h"
#include "streams/push_stream.h"
#include "streams/x509_render.h"

namespace reattest::streams {
namespace {

constexpr char kSecurityHeader[] = "workload.spiffe.io";

grpc::Status NotBuiltYet() {
  // TODO: JWT-SVIDs and bundle streams arrive with the JWT and federation issue.
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "not implemented in this release");
}

// Admits the call, or returns a reactor that has already refused it.
template <typename Response>
grpc::ServerWriteReactor<Response>* RefuseOrNotBuilt(
    const absl::StatusOr<supervisor::ConnectionInfo>& caller) {
  return new RejectedStream<Response>(caller.ok() ? NotBuiltYet() : ToGrpcStatus(caller.status()));
}

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

grpc::ServerUnaryReactor* WorkloadApiService::RefuseUnary(grpc::CallbackServerContext* context) {
  absl::StatusOr<supervisor::ConnectionInfo> caller = Admit(context);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(caller.ok() ? NotBuiltYet() : ToGrpcStatus(caller.status()));
  return reactor;
}

grpc::ServerWriteReactor<X509SVIDResponse>* WorkloadApiService::FetchX509SVID(
    grpc::CallbackServerContext* context, const X509SVIDRequest* request) {
  absl::StatusOr<supervisor::ConnectionInfo> caller = Admit(context);
  if (!caller.ok()) {
    return new RejectedStream<X509SVIDResponse>(ToGrpcStatus(caller.status()));
  }
  auto* stream = new PushStream<X509SVIDResponse>(loop_, supervisor_, metrics_,
                                                  supervisor::Api::kX509Svid, x509_svids_);
  stream->Open(*caller);
  return stream;
}

grpc::ServerWriteReactor<X509BundlesResponse>* WorkloadApiService::FetchX509Bundles(
    grpc::CallbackServerContext* context, const X509BundlesRequest* request) {
  return RefuseOrNotBuilt<X509BundlesResponse>(Admit(context));
}

grpc::ServerUnaryReactor* WorkloadApiService::FetchJWTSVID(grpc::CallbackServerContext* context,
                                                           const JWTSVIDRequest* request,
                                                           JWTSVIDResponse* response) {
  return RefuseUnary(context);
}

grpc::ServerWriteReactor<JWTBundlesResponse>* WorkloadApiService::FetchJWTBundles(
    grpc::CallbackServerContext* context, const JWTBundlesRequest* request) {
  return RefuseOrNotBuilt<JWTBundlesResponse>(Admit(context));
}

grpc::ServerUnaryReactor* WorkloadApiService::ValidateJWTSVID(grpc::CallbackServerContext* context,
                                                              const ValidateJWTSVIDRequest* request,
                                                              ValidateJWTSVIDResponse* response) {
  return RefuseUnary(context);
}

}  // namespace reattest::streams
