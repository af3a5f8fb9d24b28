#include "tests/support/workload_client.h"

namespace reattest::testing {
namespace {

constexpr auto kUnaryDeadline = std::chrono::seconds(10);

std::unique_ptr<grpc::ClientReader<X509SVIDResponse>> Open(SpiffeWorkloadAPI::Stub& stub,
                                                           grpc::ClientContext& context,
                                                           X509SVIDResponse*) {
  return stub.FetchX509SVID(&context, X509SVIDRequest());
}

std::unique_ptr<grpc::ClientReader<X509BundlesResponse>> Open(SpiffeWorkloadAPI::Stub& stub,
                                                              grpc::ClientContext& context,
                                                              X509BundlesResponse*) {
  return stub.FetchX509Bundles(&context, X509BundlesRequest());
}

std::unique_ptr<grpc::ClientReader<JWTBundlesResponse>> Open(SpiffeWorkloadAPI::Stub& stub,
                                                             grpc::ClientContext& context,
                                                             JWTBundlesResponse*) {
  return stub.FetchJWTBundles(&context, JWTBundlesRequest());
}

void PrepareUnary(grpc::ClientContext& context, bool with_header) {
  if (with_header) {
    context.AddMetadata("workload.spiffe.io", "true");
  }
  context.set_deadline(std::chrono::system_clock::now() + kUnaryDeadline);
}

}  // namespace

std::shared_ptr<grpc::Channel> UnixChannel(const std::string& socket_path) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel("unix:" + socket_path, grpc::InsecureChannelCredentials(), args);
}

template <typename Response>
WorkloadStream<Response>::WorkloadStream(const std::string& socket_path, bool with_header)
    : WorkloadStream(UnixChannel(socket_path), with_header) {}

template <typename Response>
WorkloadStream<Response>::WorkloadStream(std::shared_ptr<grpc::Channel> channel, bool with_header)
    : stub_(SpiffeWorkloadAPI::NewStub(channel)) {
  if (with_header) {
    context_.AddMetadata("workload.spiffe.io", "true");
  }
  reader_ = Open(*stub_, context_, static_cast<Response*>(nullptr));
  reader_thread_ = std::thread([this] { ReadAll(); });
}

template <typename Response>
WorkloadStream<Response>::~WorkloadStream() {
  context_.TryCancel();
  reader_thread_.join();
}

template <typename Response>
void WorkloadStream<Response>::ReadAll() {
  Response message;
  while (reader_->Read(&message)) {
    std::lock_guard<std::mutex> lock(mutex_);
    messages_.push_back(message);
    changed_.notify_all();
  }
  grpc::Status status = reader_->Finish();
  std::lock_guard<std::mutex> lock(mutex_);
  status_ = status;
  changed_.notify_all();
}

template <typename Response>
std::optional<Response> WorkloadStream<Response>::Next(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait_for(lock, timeout, [this] { return !messages_.empty() || status_.has_value(); });
  if (messages_.empty()) {
    return std::nullopt;
  }
  Response message = std::move(messages_.front());
  messages_.pop_front();
  return message;
}

template <typename Response>
grpc::Status WorkloadStream<Response>::Finish(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!changed_.wait_for(lock, timeout, [this] { return status_.has_value(); })) {
    return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "test: stream did not end in time");
  }
  return *status_;
}

template <typename Response>
bool WorkloadStream<Response>::ended() {
  std::lock_guard<std::mutex> lock(mutex_);
  return status_.has_value();
}

template class WorkloadStream<X509SVIDResponse>;
template class WorkloadStream<X509BundlesResponse>;
template class WorkloadStream<JWTBundlesResponse>;

grpc::Status FetchJwtSvid(std::shared_ptr<grpc::Channel> channel, const JWTSVIDRequest& request,
                          JWTSVIDResponse& response, bool with_header) {
  grpc::ClientContext context;
  PrepareUnary(context, with_header);
  return SpiffeWorkloadAPI::NewStub(channel)->FetchJWTSVID(&context, request, &response);
}

grpc::Status ValidateJwtSvid(std::shared_ptr<grpc::Channel> channel,
                             const ValidateJWTSVIDRequest& request,
                             ValidateJWTSVIDResponse& response, bool with_header) {
  grpc::ClientContext context;
  PrepareUnary(context, with_header);
  return SpiffeWorkloadAPI::NewStub(channel)->ValidateJWTSVID(&context, request, &response);
}

}  // namespace reattest::testing
