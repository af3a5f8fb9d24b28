#include "streams/sds_service.h"

namespace reattest::streams {
namespace {

const grpc::Status kUnidentified(grpc::StatusCode::UNAUTHENTICATED,
                                 "caller was not identified at connect");

}  // namespace

// Only connections accepted by our listener reach the server, so an
// unknown caller means its connection was already swept as closed.
template <typename Stream>
auto* SdsService::OpenStream(grpc::CallbackServerContext* context) {
  using Request = typename Stream::RequestType;
  using Response = typename Stream::ResponseType;
  using Reactor = grpc::ServerBidiReactor<Request, Response>;
  std::optional<supervisor::ConnectionInfo> caller = connections_.Lookup(context->peer());
  if (!caller) {
    return static_cast<Reactor*>(new RejectedBidi<Request, Response>(kUnidentified));
  }
  auto* stream = new Stream(context_, *caller);
  stream->Open();
  return static_cast<Reactor*>(stream);
}

grpc::ServerBidiReactor<discovery::DeltaDiscoveryRequest, discovery::DeltaDiscoveryResponse>*
SdsService::DeltaSecrets(grpc::CallbackServerContext* context) {
  return OpenStream<DeltaSdsStream>(context);
}

grpc::ServerBidiReactor<discovery::DiscoveryRequest, discovery::DiscoveryResponse>*
SdsService::StreamSecrets(grpc::CallbackServerContext* context) {
  return OpenStream<SotwSdsStream>(context);
}

grpc::ServerUnaryReactor* SdsService::FetchSecrets(grpc::CallbackServerContext* context,
                                                   const discovery::DiscoveryRequest* request,
                                                   discovery::DiscoveryResponse* response) {
  std::optional<supervisor::ConnectionInfo> caller = connections_.Lookup(context->peer());
  if (!caller) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(kUnidentified);
    return reactor;
  }
  auto* fetch = new SdsFetch(context_, *caller, *request, *response);
  fetch->Open();
  return fetch;
}

}  // namespace reattest::streams
