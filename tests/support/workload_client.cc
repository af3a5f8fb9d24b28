#include "tests/support/workload_client.h"

namespace reattest::testing {

std::shared_ptr<grpc::Channel> UnixChannel(const std::string& socket_path) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel("unix:" + socket_path, grpc::InsecureChannelCredentials(), args);
}

X509Stream::X509Stream(const std::string& socket_path, bool with_header)
    : X509Stream(UnixChannel(socket_path), with_header) {}

X509Stream::X509Stream(std::shared_ptr<grpc::Channel> channel, bool with_header)
    : stub_(SpiffeWorkloadAPI::NewStub(channel)) {
  if (with_header) {
    context_.AddMetadata("workload.spiffe.io", "true");
  }
  reader_ = stub_->FetchX509SVID(&context_, X509SVIDRequest());
  reader_thread_ = std::thread([this] { ReadAll(); });
}

X509Stream::~X509Stream() {
  context_.TryCancel();
  reader_thread_.join();
}

void X509Stream::ReadAll() {
  X509SVIDResponse message;
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

std::optional<X509SVIDResponse> X509Stream::Next(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait_for(lock, timeout, [this] { return !messages_.empty() || status_.has_value(); });
  if (messages_.empty()) {
    return std::nullopt;
  }
  X509SVIDResponse message = std::move(messages_.front());
  messages_.pop_front();
  return message;
}

grpc::Status X509Stream::Finish(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!changed_.wait_for(lock, timeout, [this] { return status_.has_value(); })) {
    return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "test: stream did not end in time");
  }
  return *status_;
}

bool X509Stream::ended() {
  std::lock_guard<std::mutex> lock(mutex_);
  return status_.has_value();
}

}  // namespace reattest::testing
