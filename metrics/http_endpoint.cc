#include "metrics/http_endpoint.h"

#include <fcntl.h>
#include <httplib.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <system_error>

#include "absl/status/status.h"
#include "common/log.h"
#include "common/strings.h"

namespace reattest::metrics {
namespace {

const log::Logger kLog("http");

// Scrapes and probes are a few requests a minute; two workers keep a slow
// scrape from delaying a probe without parking idle threads.
constexpr size_t kWorkerThreads = 2;
// Prometheus keeps its connection open between scrapes, holding a worker
// for the keep-alive timeout after each one; keep that short.
constexpr time_t kKeepAliveSeconds = 1;

struct HostPort {
  std::string host;
  int port = 0;
};

absl::StatusOr<HostPort> ParseListen(std::string_view listen) {
  size_t colon = listen.rfind(':');
  uint16_t port = 0;
  bool ok =
      colon != std::string_view::npos && colon > 0 && ParseInteger(listen.substr(colon + 1), port);
  std::string_view host = ok ? listen.substr(0, colon) : "";
  if (host.starts_with('[') && host.ends_with(']')) {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    ok = false;
  }
  if (!ok || host.empty()) {
    return absl::InvalidArgumentError(
        Concat("expected host:port such as 127.0.0.1:9988, got \"", listen, "\""));
  }
  return HostPort{std::string(host), port};
}

// httplib's default sets SO_REUSEPORT, which lets a second agent (or
// anything else of the same user) bind the same port and silently share
// its traffic. SO_REUSEADDR alone still allows a restart while old
// connections sit in TIME_WAIT, but a port in use is an error.
void SetListenerOptions(int fd) {
  int yes = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  fcntl(fd, F_SETFD, FD_CLOEXEC);
}

// Binds and returns the port, or an error naming `listen`.
absl::StatusOr<int> Bind(httplib::Server& server, const std::string& listen,
                         const HostPort& address) {
  // httplib reports a failed bind as -1 or false; errno still holds the
  // cause of the last failed call (EADDRINUSE, EADDRNOTAVAIL, ...).
  errno = 0;
  int port = address.port == 0
                 ? server.bind_to_any_port(address.host)
                 : (server.bind_to_port(address.host, address.port) ? address.port : -1);
  if (port > 0) {
    return port;
  }
  int error = errno;
  // absl::ErrnoToStatus would turn EADDRNOTAVAIL into ALREADY_EXISTS; an
  // unusable listener is UNAVAILABLE whatever the cause.
  std::string cause = error != 0 ? std::error_code(error, std::generic_category()).message()
                                 : "the host does not resolve to a local address";
  return absl::UnavailableError(Concat("cannot listen on ", listen, ": ", cause));
}

// httplib matches routes as regular expressions; ours are plain paths.
std::string EscapeRegex(std::string_view path) {
  std::string escaped;
  for (char c : path) {
    if (std::string_view(".^$|()[]{}*+?\\").find(c) != std::string_view::npos) {
      escaped.push_back('\\');
    }
    escaped.push_back(c);
  }
  return escaped;
}

void Configure(httplib::Server& server, std::vector<Route> routes) {
  server.new_task_queue = [] { return new httplib::ThreadPool(kWorkerThreads); };
  server.set_keep_alive_timeout(kKeepAliveSeconds);
  server.set_socket_options(SetListenerOptions);
  for (Route& route : routes) {
    server.Get(EscapeRegex(route.path), [handler = std::move(route.handler)](
                                            const httplib::Request&, httplib::Response& response) {
      HttpResponse answer = handler();
      response.status = answer.status;
      response.set_content(std::move(answer.body), answer.content_type.c_str());
    });
  }
}

}  // namespace

HttpEndpoint::HttpEndpoint() : server_(std::make_unique<httplib::Server>()) {}

HttpEndpoint::~HttpEndpoint() { Stop(); }

absl::StatusOr<std::unique_ptr<HttpEndpoint>> HttpEndpoint::Start(const std::string& listen,
                                                                  std::vector<Route> routes) {
  absl::StatusOr<HostPort> address = ParseListen(listen);
  if (!address.ok()) {
    return address.status();
  }

  // The constructor is private, so make_unique cannot reach it.
  std::unique_ptr<HttpEndpoint> endpoint(new HttpEndpoint());
  Configure(*endpoint->server_, std::move(routes));
  absl::StatusOr<int> port = Bind(*endpoint->server_, listen, *address);
  if (!port.ok()) {
    return port.status();
  }
  endpoint->port_ = *port;

  endpoint->Serve(listen);
  kLog.Info("HTTP endpoint listening", {{"listen", listen}, {"port", endpoint->port_}});
  return endpoint;
}

void HttpEndpoint::Serve(const std::string& listen) {
  thread_ = std::thread([this, listen] {
    if (!server_->listen_after_bind()) {
      kLog.Error("HTTP listener failed, not serving", {{"listen", listen}});
    }
    listen_returned_ = true;
  });
  // httplib's stop() does nothing until the accept loop has marked itself
  // running, so a Stop() right after Start() would leave the thread serving
  // forever. The loop marks itself running as soon as it starts.
  while (!server_->is_running() && !listen_returned_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void HttpEndpoint::Stop() {
  std::lock_guard<std::mutex> lock(stop_mutex_);
  if (!thread_.joinable()) {
    return;
  }
  server_->stop();
  thread_.join();
}

Route MetricsRoute(Metrics& metrics) {
  return Route{"/metrics", [&metrics] {
                 return HttpResponse{200, std::string(kContentType), metrics.Scrape()};
               }};
}

}  // namespace reattest::metrics
