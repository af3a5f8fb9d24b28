#include "bench/stream_fleet.h"

namespace reattest::bench {

std::shared_ptr<grpc::Channel> UnixChannel(const std::string& socket_path) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel("unix:" + socket_path, grpc::InsecureChannelCredentials(), args);
}

// One stream. Arrival times and the last message are read by the fleet under
// its mutex; the reactor writes them under the same mutex.
class StreamFleet::Watcher : public grpc::ClientReadReactor<X509SVIDResponse> {
 public:
  Watcher(StreamFleet& fleet, SpiffeWorkloadAPI::Stub& stub) : fleet_(fleet) {
    context_.AddMetadata("workload.spiffe.io", "true");
    stub.async()->FetchX509SVID(&context_, &request_, this);
    StartRead(&incoming_);
    StartCall();
  }

  void Cancel() { context_.TryCancel(); }

  void WaitDone() {
    std::unique_lock<std::mutex> lock(fleet_.mutex_);
    fleet_.changed_.wait(lock, [this] { return done_; });
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      return;
    }
    Clock::time_point now = Clock::now();
    {
      std::lock_guard<std::mutex> lock(fleet_.mutex_);
      arrivals.push_back(now);
      last.Swap(&incoming_);
      fleet_.CountArrival(arrivals.size());
    }
    StartRead(&incoming_);
  }

  void OnDone(const grpc::Status&) override {
    std::lock_guard<std::mutex> lock(fleet_.mutex_);
    done_ = true;
    ++fleet_.ended_;
    fleet_.changed_.notify_all();
  }

  std::vector<Clock::time_point> arrivals;  // guarded by fleet_.mutex_
  X509SVIDResponse last;                    // guarded by fleet_.mutex_

 private:
  StreamFleet& fleet_;
  grpc::ClientContext context_;
  X509SVIDRequest request_;
  X509SVIDResponse incoming_;
  bool done_ = false;  // guarded by fleet_.mutex_
};

StreamFleet::StreamFleet() = default;

StreamFleet::~StreamFleet() {
  for (auto& watcher : watchers_) {
    watcher->Cancel();
  }
  for (auto& watcher : watchers_) {
    watcher->WaitDone();
  }
}

void StreamFleet::Open(const std::string& socket_path, int count, int per_connection) {
  for (int i = 0; i < count; ++i) {
    if (i % per_connection == 0) {
      channels_.push_back(UnixChannel(socket_path));
      stubs_.push_back(SpiffeWorkloadAPI::NewStub(channels_.back()));
    }
    auto watcher = std::make_unique<Watcher>(*this, *stubs_.back());
    std::lock_guard<std::mutex> lock(mutex_);
    watchers_.push_back(std::move(watcher));
  }
}

// Called with mutex_ held. Counting per message index keeps WaitAll O(1):
// a scan of ten thousand streams per message would compete with the server
// for the two cores being measured.
void StreamFleet::CountArrival(size_t index) {
  if (reached_.size() < index) {
    reached_.resize(index, 0);
  }
  if (++reached_[index - 1] == watchers_.size()) {
    changed_.notify_all();
  }
}

bool StreamFleet::WaitAll(int messages, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] {
    return reached_.size() >= static_cast<size_t>(messages) &&
           reached_[messages - 1] == watchers_.size();
  });
}

std::vector<Clock::time_point> StreamFleet::ArrivalsOf(int index) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<Clock::time_point> out;
  for (const auto& watcher : watchers_) {
    if (static_cast<int>(watcher->arrivals.size()) >= index) {
      out.push_back(watcher->arrivals[index - 1]);
    }
  }
  return out;
}

X509SVIDResponse StreamFleet::Last(size_t stream) {
  std::lock_guard<std::mutex> lock(mutex_);
  return watchers_.at(stream)->last;
}

int StreamFleet::ended() {
  std::lock_guard<std::mutex> lock(mutex_);
  return ended_;
}

}  // namespace reattest::bench
