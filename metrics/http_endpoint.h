// A small HTTP server for `metrics.listen` and `health.listen` (SPEC
// section 6): fixed GET routes registered before start, served on its own
// threads. It knows nothing of what it serves; MetricsRoute() gives the
// `/metrics` route and the caller adds its own (/healthz, /readyz,
// /debug/workloads).
//
// Threading: handlers run on the endpoint's worker threads, possibly two at
// once, and must be thread-safe. Start, port and Stop may be called from any
// thread except a handler's.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "metrics/metrics.h"

namespace httplib {
class Server;
}

namespace reattest::metrics {

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// GET (and HEAD) on `path`, matched exactly (no patterns).
struct Route {
  std::string path;
  std::function<HttpResponse()> handler;
};

class HttpEndpoint {
 public:
  // Listens on `listen` (`host:port`, `[v6]:port`; port 0 picks a free
  // port) and serves `routes`; any other path answers 404. An address that
  // cannot be parsed or bound is an error that names it; the caller adds
  // the config key.
  static absl::StatusOr<std::unique_ptr<HttpEndpoint>> Start(const std::string& listen,
                                                             std::vector<Route> routes);
  ~HttpEndpoint();  // Stops.
  HttpEndpoint(const HttpEndpoint&) = delete;
  HttpEndpoint& operator=(const HttpEndpoint&) = delete;

  // The bound port: the configured one, or the one chosen for port 0.
  int port() const { return port_; }

  // Closes the listener and waits for requests in progress to finish.
  // Idempotent.
  void Stop();

 private:
  HttpEndpoint();
  // Runs the accept loop on thread_ and returns once Stop() can end it.
  void Serve(const std::string& listen);

  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::atomic<bool> listen_returned_{false};  // set by thread_ when its accept loop ends
  std::mutex stop_mutex_;                     // makes Stop() safe from two threads
  int port_ = 0;
};

// Serves metrics.Scrape() as kContentType; `metrics` must outlive the endpoint.
Route MetricsRoute(Metrics& metrics);

}  // namespace reattest::metrics
