#include "supervisor/event_loop.h"

#include <cstdlib>

#include "common/log.h"

namespace reattest::supervisor {
namespace {

const log::Logger kLog("loop");

// A libuv failure on a handle we own cannot happen after start-up unless the
// process is out of memory or descriptors; there is no sane way to continue.
void CheckUv(int rc, const char* what) {
  if (rc != 0) {
    kLog.Error("libuv call failed", {{"call", what}, {"error", uv_strerror(rc)}});
    std::abort();
  }
}

struct WorkRequest {
  uv_work_t req;
  std::function<void()> work;
  std::function<void()> done;
};

}  // namespace

EventLoop::EventLoop() {
  CheckUv(uv_loop_init(&loop_), "uv_loop_init");
  CheckUv(uv_async_init(&loop_, &async_, &EventLoop::OnAsync), "uv_async_init");
  async_.data = this;
  loop_thread_.store(std::this_thread::get_id());
}

EventLoop::~EventLoop() {
  // Run() has returned, so every handle is closed.
  uv_loop_close(&loop_);
}

bool EventLoop::Post(std::function<void()> fn) {
  std::lock_guard<std::mutex> lock(posts_mutex_);
  if (!accepting_) {
    return false;
  }
  posts_.push_back(std::move(fn));
  // Sending under the lock keeps Stop() from closing the handle in between.
  uv_async_send(&async_);
  return true;
}

void EventLoop::OnAsync(uv_async_t* handle) { static_cast<EventLoop*>(handle->data)->DrainPosts(); }

void EventLoop::DrainPosts() {
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard<std::mutex> lock(posts_mutex_);
    batch.swap(posts_);
  }
  for (auto& fn : batch) {
    fn();
  }
}

void EventLoop::Run() {
  loop_thread_.store(std::this_thread::get_id());
  uv_run(&loop_, UV_RUN_DEFAULT);
}

void EventLoop::Stop() {
  {
    std::lock_guard<std::mutex> lock(posts_mutex_);
    accepting_ = false;
  }
  // Posts that raced with the flag still run: they were accepted.
  DrainPosts();
  uv_close(reinterpret_cast<uv_handle_t*>(&async_), nullptr);
  uv_walk(
      &loop_,
      [](uv_handle_t* handle, void*) {
        if (!uv_is_closing(handle)) {
          uv_close(handle, nullptr);
        }
      },
      nullptr);
}

void EventLoop::QueueWork(std::function<void()> work, std::function<void()> done) {
  auto* request = new WorkRequest{{}, std::move(work), std::move(done)};
  request->req.data = request;
  int rc = uv_queue_work(
      &loop_, &request->req, [](uv_work_t* req) { static_cast<WorkRequest*>(req->data)->work(); },
      [](uv_work_t* req, int status) {
        std::unique_ptr<WorkRequest> owned(static_cast<WorkRequest*>(req->data));
        if (status == 0) {
          owned->done();
        }
      });
  CheckUv(rc, "uv_queue_work");
}

Timer::Timer(EventLoop& loop) : handle_(new uv_timer_t) {
  CheckUv(uv_timer_init(loop.uv(), handle_), "uv_timer_init");
  handle_->data = this;
}

Timer::~Timer() {
  handle_->data = nullptr;
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(handle_))) {
    uv_close(reinterpret_cast<uv_handle_t*>(handle_),
             [](uv_handle_t* handle) { delete reinterpret_cast<uv_timer_t*>(handle); });
  }
  // Otherwise EventLoop::Stop() closed it already with no callback; the
  // handle's memory is then released with the process.
}

void Timer::Start(Duration delay, std::function<void()> fn) {
  fn_ = std::move(fn);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(delay).count();
  if (uv_is_closing(reinterpret_cast<uv_handle_t*>(handle_))) {
    return;
  }
  CheckUv(uv_timer_start(handle_, &Timer::OnFire, ms < 0 ? 0 : static_cast<uint64_t>(ms), 0),
          "uv_timer_start");
}

void Timer::Stop() {
  uv_timer_stop(handle_);
  fn_ = nullptr;
}

bool Timer::armed() const { return uv_is_active(reinterpret_cast<uv_handle_t*>(handle_)) != 0; }

Duration Timer::Remaining() const {
  if (!armed()) {
    return Duration::zero();
  }
  return std::chrono::milliseconds(uv_timer_get_due_in(handle_));
}

void Timer::OnFire(uv_timer_t* handle) {
  auto* timer = static_cast<Timer*>(handle->data);
  if (timer == nullptr || !timer->fn_) {
    return;
  }
  // The callback may re-arm or destroy this timer: move it out first.
  std::function<void()> fn = std::move(timer->fn_);
  fn();
}

FdWatch::FdWatch(EventLoop& loop, int fd) : handle_(new uv_poll_t) {
  CheckUv(uv_poll_init(loop.uv(), handle_, fd), "uv_poll_init");
  handle_->data = this;
}

FdWatch::~FdWatch() {
  handle_->data = nullptr;
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(handle_))) {
    uv_close(reinterpret_cast<uv_handle_t*>(handle_),
             [](uv_handle_t* handle) { delete reinterpret_cast<uv_poll_t*>(handle); });
  }
}

void FdWatch::StartReadable(std::function<void()> fn) {
  fn_ = std::move(fn);
  CheckUv(uv_poll_start(handle_, UV_READABLE, &FdWatch::OnReady), "uv_poll_start");
}

void FdWatch::Stop() {
  uv_poll_stop(handle_);
  fn_ = nullptr;
}

void FdWatch::OnReady(uv_poll_t* handle, int status, int events) {
  auto* watch = static_cast<FdWatch*>(handle->data);
  if (watch != nullptr && watch->fn_) {
    // Copied: the callback may destroy the watch.
    std::function<void()> fn = watch->fn_;
    fn();
  }
}

}  // namespace reattest::supervisor
