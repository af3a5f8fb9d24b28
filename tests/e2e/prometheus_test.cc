// A real Prometheus server (Debian's package) scrapes the agent on loopback
// and answers queries about it: what an operator's monitoring would see.
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>

#include "tests/support/agent_fixture.h"
#include "tests/support/ports.h"
#include "tests/support/wait.h"

extern char** environ;

namespace reattest::testing {
namespace {

// Prometheus as a child process, stopped at scope end.
class PrometheusServer {
 public:
  PrometheusServer(const TempDir& dir, int scrape_port) : port_(FreeLoopbackPort()) {
    std::string config = dir.Write("prometheus.yml",
                                   "global: {scrape_interval: 200ms, evaluation_interval: 1s}\n"
                                   "scrape_configs:\n"
                                   "  - job_name: reattest\n"
                                   "    static_configs: [{targets: ['127.0.0.1:" +
                                       std::to_string(scrape_port) + "']}]\n");
    std::vector<std::string> args = {
        "/usr/bin/prometheus", "--config.file=" + config, "--storage.tsdb.path=" + dir / "tsdb",
        "--web.listen-address=127.0.0.1:" + std::to_string(port_), "--log.level=warn"};
    std::vector<char*> argv;
    for (std::string& arg : args) {
      argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    // posix_spawn, not fork: this process runs gRPC threads.
    if (posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ) != 0) {
      pid_ = -1;
    }
  }
  ~PrometheusServer() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }

  bool started() const { return pid_ > 0; }

  std::string Query(const std::string& promql) const {
    httplib::Client client("127.0.0.1", port_);
    httplib::Params params{{"query", promql}};
    httplib::Result result = client.Get("/api/v1/query", params, httplib::Headers());
    return result && result->status == 200 ? result->body : "";
  }

 private:
  int port_;
  pid_t pid_ = -1;
};

TEST_CASE("A real Prometheus server scrapes the agent and can query its stuck streams",
          "[e2e][prometheus]") {
  int metrics_port = FreeLoopbackPort();
  AgentFixture fixture(EntriesYaml({{"/root", "unix:uid:0"}}),
                       "metrics: {listen: 127.0.0.1:" + std::to_string(metrics_port) + "}\n");
  auto agent = fixture.Start();
  REQUIRE(agent->ready());
  PrometheusServer prometheus(fixture.dir(), metrics_port);
  REQUIRE(prometheus.started());

  std::string answer;
  bool scraped = WaitFor(
      [&] {
        answer = prometheus.Query("reattest_stuck_streams{api=\"x509_svid\"}");
        return answer.find("\"x509_svid\"") != std::string::npos;
      },
      std::chrono::seconds(30));
  INFO(answer);
  REQUIRE(scraped);
  CHECK(answer.find("\"status\":\"success\"") != std::string::npos);
  CHECK(answer.find("\"job\":\"reattest\"") != std::string::npos);
  CHECK(prometheus.Query("up{job=\"reattest\"}").find("\"1\"]") != std::string::npos);
}

}  // namespace
}  // namespace reattest::testing
