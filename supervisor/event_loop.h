// The one libuv event loop that owns all supervisor state (SPEC section 3).
//
// Other threads (gRPC, workers) never touch loop-owned state: they Post() a
// closure, which runs on the loop thread in posting order. Blocking work goes
// to the thread pool through QueueWork(), whose completion runs on the loop.
#pragma once

#include <uv.h>

#include <atomic>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "common/duration.h"

namespace reattest::supervisor {

class EventLoop {
 public:
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  uv_loop_t* uv() { return &loop_; }

  // Any thread. Runs `fn` on the loop thread. Returns false once the loop has
  // stopped accepting work (shutdown), in which case `fn` is dropped.
  bool Post(std::function<void()> fn);

  // Runs the loop on the calling thread, which becomes the loop thread, until
  // Stop() is called from the loop and every handle has closed.
  void Run();
  // Loop thread only. Stops taking posts and closes every handle.
  void Stop();

  bool IsLoopThread() const { return std::this_thread::get_id() == loop_thread_.load(); }

  // Any thread but the loop's. Runs `fn` on the loop and waits up to
  // `deadline` for its answer; nullopt when the loop did not answer in time
  // (stuck or stopped). For HTTP handlers that need a consistent view.
  template <typename T>
  std::optional<T> Ask(std::function<T()> fn, Duration deadline) {
    auto answer = std::make_shared<std::promise<T>>();
    std::future<T> future = answer->get_future();
    if (!Post([answer, fn = std::move(fn)] { answer->set_value(fn()); })) {
      return std::nullopt;
    }
    if (future.wait_for(deadline) != std::future_status::ready) {
      return std::nullopt;
    }
    return future.get();
  }

  // Loop thread only. Runs `work` on libuv's thread pool, then `done` on the
  // loop. For /proc reads and hashing; never for network lookups, which would
  // hold pool threads for their whole timeout.
  void QueueWork(std::function<void()> work, std::function<void()> done);

  std::chrono::steady_clock::time_point Now() const { return std::chrono::steady_clock::now(); }

 private:
  static void OnAsync(uv_async_t* handle);
  void DrainPosts();

  uv_loop_t loop_;
  uv_async_t async_;
  std::mutex posts_mutex_;
  std::vector<std::function<void()>> posts_;  // guarded by posts_mutex_
  bool accepting_ = true;                     // guarded by posts_mutex_
  std::atomic<std::thread::id> loop_thread_;
};

// A one-shot or repeating timer on the loop. Loop thread only. Safe to destroy
// while armed: the libuv handle is closed asynchronously and owns nothing of
// the Timer afterwards.
class Timer {
 public:
  explicit Timer(EventLoop& loop);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  void Start(Duration delay, std::function<void()> fn);
  void Stop();
  bool armed() const;
  // Time left before it fires; zero when not armed.
  Duration Remaining() const;

 private:
  static void OnFire(uv_timer_t* handle);

  uv_timer_t* handle_;
  std::function<void()> fn_;
};

// Watches a descriptor for readiness on the loop (a listening socket, a
// pidfd that becomes readable when its process exits). Loop thread only; does
// not own the descriptor, which must outlive the watch.
class FdWatch {
 public:
  FdWatch(EventLoop& loop, int fd);
  ~FdWatch();
  FdWatch(const FdWatch&) = delete;
  FdWatch& operator=(const FdWatch&) = delete;

  // `fn` runs on every readiness event until Stop() or destruction.
  void StartReadable(std::function<void()> fn);
  void Stop();

 private:
  static void OnReady(uv_poll_t* handle, int status, int events);

  uv_poll_t* handle_;
  std::function<void()> fn_;
};

}  // namespace reattest::supervisor
