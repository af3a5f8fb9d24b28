#include "bench/stream_fleet.h"

namespace reattest::bench {

std::shared_ptr<grpc::Channel> UnixChannel(const std::string& socket_path) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel("unix:" + socket_path, grpc::InsecureChannelCredentials(), args);
}

// One FetchX509SVID stream.
template <>
class StreamFleet<X509SVIDResponse>::Watcher : public grpc::ClientReadReactor<X509SVIDResponse> {
 public:
  Watcher(StreamFleet& fleet, SpiffeWorkloadAPI::Stub& stub) : fleet_(fleet) {
    context_.AddMetadata("workload.spiffe.io", "true");
    stub.async()->FetchX509SVID(&context_, &request_, this);
    StartRead(&incoming_);
    StartCall();
  }

  void Cancel() { context_.TryCancel(); }

  void OnReadDone(bool ok) override {
    if (ok) {
      fleet_.Arrived(record, incoming_);
      StartRead(&incoming_);
    }
  }

  void OnDone(const grpc::Status&) override { fleet_.Ended(record); }

  Record record;

 private:
  StreamFleet& fleet_;
  grpc::ClientContext context_;
  X509SVIDRequest request_;
  X509SVIDResponse incoming_;
};

// One StreamSecrets stream, as Envoy opens it for a listener's certificate
// and validation context: the node on the first request, then an ACK of
// every response. One write in flight; a newer ACK replaces a queued one.
template <>
class StreamFleet<DiscoveryResponse>::Watcher
    : public grpc::ClientBidiReactor<DiscoveryRequest, DiscoveryResponse> {
 public:
  Watcher(StreamFleet& fleet, SecretDiscoveryService::Stub& stub) : fleet_(fleet) {
    stub.async()->StreamSecrets(&context_, this);
    DiscoveryRequest subscribe = Request();
    subscribe.mutable_node()->set_id("bench-envoy");
    subscribe.mutable_node()->set_cluster("bench");
    Send(std::move(subscribe));
    StartRead(&incoming_);
    StartCall();
  }

  void Cancel() { context_.TryCancel(); }

  void OnReadDone(bool ok) override {
    if (!ok) {
      return;
    }
    DiscoveryRequest ack = Request();
    ack.set_version_info(incoming_.version_info());
    ack.set_response_nonce(incoming_.nonce());
    fleet_.Arrived(record, incoming_);
    Send(std::move(ack));
    StartRead(&incoming_);
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard<std::mutex> lock(write_mutex_);
    writing_ = false;
    if (ok && has_pending_) {
      WritePending();
    }
  }

  void OnDone(const grpc::Status&) override { fleet_.Ended(record); }

  Record record;

 private:
  static DiscoveryRequest Request() {
    DiscoveryRequest request;
    request.set_type_url(kSecretType);
    request.add_resource_names("default");
    request.add_resource_names("ROOTCA");
    return request;
  }

  void Send(DiscoveryRequest request) {
    std::lock_guard<std::mutex> lock(write_mutex_);
    pending_ = std::move(request);
    has_pending_ = true;
    if (!writing_) {
      WritePending();
    }
  }

  // Called with write_mutex_ held.
  void WritePending() {
    in_flight_.Swap(&pending_);
    has_pending_ = false;
    writing_ = true;
    StartWrite(&in_flight_);
  }

  StreamFleet& fleet_;
  grpc::ClientContext context_;
  DiscoveryResponse incoming_;
  std::mutex write_mutex_;
  DiscoveryRequest pending_, in_flight_;  // guarded by write_mutex_
  bool has_pending_ = false;              // guarded by write_mutex_
  bool writing_ = false;                  // guarded by write_mutex_
};

template <typename Message>
StreamFleet<Message>::StreamFleet() = default;

template <typename Message>
StreamFleet<Message>::~StreamFleet() {
  for (auto& watcher : watchers_) {
    watcher->Cancel();
  }
  std::unique_lock<std::mutex> lock(mutex_);
  for (auto& watcher : watchers_) {
    changed_.wait(lock, [&] { return watcher->record.done; });
  }
}

template <typename Message>
void StreamFleet<Message>::Open(const std::string& socket_path, int count, int per_connection) {
  using Stub = typename ServiceOf<Message>::Stub;
  for (int i = 0; i < count; ++i) {
    if (i % per_connection == 0) {
      channels_.push_back(UnixChannel(socket_path));
      stubs_.push_back(std::make_unique<Stub>(channels_.back()));
    }
    auto watcher = std::make_unique<Watcher>(*this, *stubs_.back());
    std::lock_guard<std::mutex> lock(mutex_);
    watchers_.push_back(std::move(watcher));
  }
}

// Counting per message index keeps WaitAll O(1): a scan of ten thousand
// streams per message would compete with the server for the two cores
// being measured.
template <typename Message>
void StreamFleet<Message>::Arrived(Record& record, Message& incoming) {
  Clock::time_point now = Clock::now();
  std::lock_guard<std::mutex> lock(mutex_);
  record.arrivals.push_back(now);
  record.last.Swap(&incoming);
  size_t index = record.arrivals.size();
  if (reached_.size() < index) {
    reached_.resize(index, 0);
  }
  if (++reached_[index - 1] == watchers_.size()) {
    changed_.notify_all();
  }
}

template <typename Message>
void StreamFleet<Message>::Ended(Record& record) {
  std::lock_guard<std::mutex> lock(mutex_);
  record.done = true;
  changed_.notify_all();
}

template <typename Message>
bool StreamFleet<Message>::WaitAll(int messages, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] {
    return reached_.size() >= static_cast<size_t>(messages) &&
           reached_[messages - 1] == watchers_.size();
  });
}

template <typename Message>
std::vector<Clock::time_point> StreamFleet<Message>::ArrivalsOf(int index) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<Clock::time_point> out;
  for (const auto& watcher : watchers_) {
    if (static_cast<int>(watcher->record.arrivals.size()) >= index) {
      out.push_back(watcher->record.arrivals[index - 1]);
    }
  }
  return out;
}

template <typename Message>
Message StreamFleet<Message>::Last(size_t stream) {
  std::lock_guard<std::mutex> lock(mutex_);
  return watchers_.at(stream)->record.last;
}

template class StreamFleet<X509SVIDResponse>;
template class StreamFleet<DiscoveryResponse>;

}  // namespace reattest::bench
