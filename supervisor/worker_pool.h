// A small pool of threads for blocking network lookups (Docker, kubelet),
// kept apart from libuv's pool so an outage that makes every lookup wait for
// its timeout never queues the /proc reads of unrelated workloads.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace reattest::supervisor {

class WorkerPool {
 public:
  explicit WorkerPool(size_t threads);
  // Finishes queued jobs, then joins.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Any thread. The job reports back by posting to the loop itself.
  void Submit(std::function<void()> job);

 private:
  void Work();

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> jobs_;  // guarded by mutex_
  bool stopping_ = false;                   // guarded by mutex_
  std::vector<std::thread> threads_;
};

}  // namespace reattest::supervisor
