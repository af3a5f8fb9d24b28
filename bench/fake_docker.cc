#include "bench/fake_docker.h"

#include <httplib.h>
#include <sys/socket.h>
#include <unistd.h>

namespace reattest::bench {
namespace {

// The fields the docker attestor reads, for a container labelled app=web.
std::string ContainerJson(const std::string& id) {
  return R"({"Id":")" + id +
         R"(","Config":{"Image":"bench:latest","Labels":{"app":"web"},"Env":["A=1"]}})";
}

}  // namespace

FakeDocker::FakeDocker(const std::string& socket_path)
    : server_(std::make_unique<httplib::Server>()) {
  unlink(socket_path.c_str());
  server_->set_address_family(AF_UNIX);
  server_->Get(R"(/(?:v[\d.]+/)?containers/([0-9a-f]{64})/json)",
               [this](const httplib::Request& request, httplib::Response& response) {
                 ++inspects_;
                 if (!healthy_) {
                   response.status = 503;
                   response.set_content(R"({"message":"daemon restarting"})", "application/json");
                   return;
                 }
                 response.set_content(ContainerJson(request.matches[1]), "application/json");
                 last_ok_ns_ = std::chrono::steady_clock::now().time_since_epoch().count();
               });
  // Bound before the thread starts, so the socket accepts once we return.
  server_->bind_to_port(socket_path.c_str(), 80);
  thread_ = std::thread([this] { server_->listen_after_bind(); });
}

FakeDocker::~FakeDocker() {
  server_->stop();
  thread_.join();
}

}  // namespace reattest::bench
