#include "attestors/docker/docker_attestor.h"

#include <httplib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/process.h"
#include "common/strings.h"
#include "tests/support/start_ticks.h"
#include "tests/support/temp_dir.h"

namespace reattest::attestors {
namespace {

using namespace std::chrono_literals;
using testing::NowTicks;
using testing::TempDir;

const std::string kId = "a33bd47fe111843f9f65dbebfa43a8ad44c6d89471cc4609bd09fd3cca5e5e71";
const std::string kOtherId = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
constexpr pid_t kPid = 4242;

const char kInspectBody[] = R"({
  "Id": "a33bd47fe111843f9f65dbebfa43a8ad44c6d89471cc4609bd09fd3cca5e5e71",
  "Image": "sha256:1e08c0001b64111f5d509c4c09be4edadbe96a39d8faf1bd2fc0c289f752fa01",
  "Config": {
    "Hostname": "a33bd47fe111",
    "Env": ["SECRET=x", "PATH=/usr/bin:/bin"],
    "Cmd": ["/bin/sleep", "3600"],
    "Image": "registry.example/web:1.2",
    "Labels": {"app": "web", "tier": "front:end"}
  }
})";

// A stand-in for the Docker Engine API on a Unix socket, served from its own
// thread: answers `GET /containers/<id>/json` as told and records what it got.
class FakeDockerApi {
 public:
  explicit FakeDockerApi(const std::string& socket_path) {
    server_.set_address_family(AF_UNIX);
    server_.Get(R"(/containers/([^/]+)/json)",
                [this](const httplib::Request& request, httplib::Response& response) {
                  Handle(request, response);
                });
    if (!server_.bind_to_port(socket_path, 80)) {
      return;
    }
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // httplib's stop() does nothing before the accept loop runs, so a fake
    // destroyed at once would leave its thread listening forever.
    while (!server_.is_running()) {
      std::this_thread::sleep_for(1ms);
    }
  }

  ~FakeDockerApi() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      released_ = true;
    }
    released_changed_.notify_all();
    server_.stop();
    if (thread_.joinable()) {
      thread_.join();
    }
  }

  bool listening() const { return thread_.joinable(); }

  void Answer(int status, std::string body) {
    std::lock_guard<std::mutex> lock(mutex_);
    mode_ = Mode::kAnswer;
    status_ = status;
    body_ = std::move(body);
  }
  // Requests get no answer until the fake is destroyed.
  void Hang() { SetMode(Mode::kHang); }
  // Requests get a 200 whose body comes one byte at a time, each within any
  // read timeout, but the whole far too slowly.
  void Trickle() { SetMode(Mode::kTrickle); }

  int requests() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }
  std::string last_host() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return last_host_;
  }
  std::string last_path() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return last_path_;
  }

 private:
  enum class Mode { kAnswer, kHang, kTrickle };

  void SetMode(Mode mode) {
    std::lock_guard<std::mutex> lock(mutex_);
    mode_ = mode;
  }

  void Handle(const httplib::Request& request, httplib::Response& response) {
    std::unique_lock<std::mutex> lock(mutex_);
    ++requests_;
    last_host_ = request.get_header_value("Host");
    last_path_ = request.path;
    switch (mode_) {
      case Mode::kAnswer:
        response.status = status_;
        response.set_content(body_, "application/json");
        return;
      case Mode::kHang:
        released_changed_.wait(lock, [this] { return released_; });
        return;
      case Mode::kTrickle:
        response.set_chunked_content_provider(
            "application/json", [this](size_t, httplib::DataSink& sink) { return Drip(sink); });
        return;
    }
  }

  // One space every 50 ms, for as long as the fake lives.
  bool Drip(httplib::DataSink& sink) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (released_changed_.wait_for(lock, 50ms, [this] { return released_; })) {
      return false;
    }
    return sink.write(" ", 1);
  }

  httplib::Server server_;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::condition_variable released_changed_;
  bool released_ = false;
  Mode mode_ = Mode::kAnswer;
  int status_ = 200;
  std::string body_ = kInspectBody;
  int requests_ = 0;
  std::string last_host_;
  std::string last_path_;
};

// A socket file nobody listens on: bound, never listening, then closed, so a
// connect gets ECONNREFUSED, as after a daemon died by SIGKILL.
bool MakeDeadSocket(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  bool bound = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  close(fd);
  return bound;
}

// A fake procfs root and a fake Docker API in one short temp dir.
class Fixture {
 public:
  Fixture() : api_(socket_path()) {
    options_.socket_path = socket_path();
    options_.timeout = 2s;
  }

  std::string socket_path() const { return dir_ / "d.sock"; }
  FakeDockerApi& api() { return api_; }
  DockerOptions& options() { return options_; }

  // Writes PROC_ROOT/kPid/NAME.
  void WriteProc(const std::string& name, const std::string& contents) {
    std::filesystem::create_directories(dir_ / ("proc/" + std::to_string(kPid)));
    dir_.Write("proc/" + std::to_string(kPid) + "/" + name, contents);
  }
  void WriteCgroup(const std::string& contents) { WriteProc("cgroup", contents); }
  // A /proc/PID/stat whose field 22 (start time) is `ticks`.
  void WriteStat(uint64_t ticks) {
    WriteProc("stat", Concat(kPid, " (sleep) S 1 4242 4242 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 ", ticks,
                             " 0 0\n"));
  }

  AttestResult Attest(uint64_t start_time_ticks = NowTicks()) {
    absl::StatusOr<std::unique_ptr<DockerAttestor>> attestor = DockerAttestor::Create(options_);
    REQUIRE(attestor.ok());
    AttestRequest request;
    request.pid = kPid;
    request.proc_root = dir_ / "proc";
    request.start_time_ticks = start_time_ticks;
    return (*attestor)->Attest(request);
  }

 private:
  TempDir dir_;
  FakeDockerApi api_;
  DockerOptions options_;
};

TEST_CASE("A Docker container's process attests ok with its labels, image and environment",
          "[docker-attestor]") {
  Fixture fixture;
  REQUIRE(fixture.api().listening());
  fixture.WriteCgroup("4:memory:/docker/" + kId + "\n0::/docker/" + kId + "\n");

  SECTION("labels, image and env") {
    AttestResult result = fixture.Attest();

    CHECK(result.outcome == Outcome::kOk);
    CHECK(result.selectors == SelectorSet{
                                  "docker:label:app:web",
                                  "docker:label:tier:front:end",
                                  "docker:image_id:registry.example/web:1.2",
                                  "docker:env:SECRET=x",
                                  "docker:env:PATH=/usr/bin:/bin",
                              });
    CHECK(result.container_id == kId);
    CHECK(fixture.api().last_path() == "/containers/" + kId + "/json");
  }

  SECTION("null labels and env give the image selector alone") {
    fixture.api().Answer(200, R"({"Config": {"Image": "busybox", "Labels": null, "Env": null}})");

    AttestResult result = fixture.Attest();

    CHECK(result.outcome == Outcome::kOk);
    CHECK(result.selectors == SelectorSet{"docker:image_id:busybox"});
  }
}

TEST_CASE("The Host header sent to Docker is a hostname, not the socket path",
          "[docker-attestor]") {
  Fixture fixture;
  fixture.WriteCgroup("0::/docker/" + kId + "\n");

  REQUIRE(fixture.Attest().outcome == Outcome::kOk);

  CHECK(fixture.api().last_host() == "docker");
  CHECK(fixture.api().last_host() != fixture.socket_path());
}

TEST_CASE("A process outside Docker's containers is not_applicable and Docker is not asked",
          "[docker-attestor]") {
  Fixture fixture;

  SECTION("a plain host process") {
    fixture.WriteCgroup("0::/user.slice/user-0.slice/session-1.scope\n");
  }
  SECTION("a containerd container") {
    fixture.WriteCgroup("0::/kubepods.slice/cri-containerd-" + kId + ".scope\n");
  }
  SECTION("a cri-o container") {
    fixture.WriteCgroup("0::/kubepods.slice/crio-" + kId + ".scope\n");
  }
  SECTION("a podman container") {
    fixture.WriteCgroup("0::/machine.slice/libpod-" + kId + ".scope\n");
  }

  AttestResult result = fixture.Attest();

  CHECK(result.outcome == Outcome::kNotApplicable);
  CHECK(result.selectors.empty());
  CHECK(fixture.api().requests() == 0);
}

TEST_CASE("A process that cannot be attributed to one container is soft_error",
          "[docker-attestor]") {
  Fixture fixture;

  SECTION("two container IDs") {
    fixture.WriteCgroup("4:memory:/docker/" + kId + "\n0::/docker/" + kOtherId + "\n");
  }
  SECTION("no cgroup file (the process exited)") {}

  AttestResult result = fixture.Attest();

  CHECK(result.outcome == Outcome::kSoftError);
  CHECK_FALSE(result.reason.empty());
  CHECK(fixture.api().requests() == 0);
}

TEST_CASE("Docker's 404 is transient while the process is young and soft after not_found_grace",
          "[docker-attestor]") {
  Fixture fixture;
  fixture.WriteCgroup("0::/docker/" + kId + "\n");
  fixture.api().Answer(404, R"({"message": "No such container: )" + kId + "\"}");
  // Far older than the grace whatever the machine's uptime: the process started at boot.
  const uint64_t kAtBoot = 1;

  SECTION("young: transient") {
    AttestResult result = fixture.Attest(NowTicks());
    CHECK(result.outcome == Outcome::kTransientError);
    CHECK(result.container_id == kId);
  }
  SECTION("old: soft") {
    fixture.options().not_found_grace = 1s;
    AttestResult result = fixture.Attest(kAtBoot);
    CHECK(result.outcome == Outcome::kSoftError);
    CHECK(result.container_id == kId);
  }
  SECTION("no start time in the request: young, read from PROC_ROOT/PID/stat") {
    fixture.WriteStat(NowTicks());
    CHECK(fixture.Attest(0).outcome == Outcome::kTransientError);
  }
  SECTION("no start time in the request: old, read from PROC_ROOT/PID/stat") {
    fixture.options().not_found_grace = 1s;
    fixture.WriteStat(kAtBoot);
    CHECK(fixture.Attest(0).outcome == Outcome::kSoftError);
  }
  SECTION("no start time anywhere (the process exited): soft") {
    CHECK(fixture.Attest(0).outcome == Outcome::kSoftError);
  }
}

TEST_CASE("Docker answers other than 200 and 404, or unparsable, are transient",
          "[docker-attestor]") {
  Fixture fixture;
  fixture.WriteCgroup("0::/docker/" + kId + "\n");
  std::string expected_reason;

  SECTION("HTTP 500") {
    fixture.api().Answer(500, R"({"message": "daemon is restarting"})");
    expected_reason = "HTTP 500: daemon is restarting";
  }
  SECTION("HTTP 400") {
    fixture.api().Answer(400, "bad request");
    expected_reason = "HTTP 400: bad request";
  }
  SECTION("malformed JSON") {
    fixture.api().Answer(200, R"({"Config": {"Image": )");
    expected_reason = "malformed container JSON";
  }
  SECTION("JSON without Config") {
    fixture.api().Answer(200, R"({"Id": "x"})");
    expected_reason = "malformed container JSON";
  }
  SECTION("labels of the wrong type") {
    fixture.api().Answer(200, R"({"Config": {"Image": "x", "Labels": ["app=web"]}})");
    expected_reason = "Config.Labels is not an object";
  }

  AttestResult result = fixture.Attest();

  CHECK(result.outcome == Outcome::kTransientError);
  CHECK(result.selectors.empty());
  CHECK(result.container_id == kId);
  CHECK_THAT(result.reason, Catch::Contains(expected_reason));
}

TEST_CASE("An unreachable Docker is transient, with the socket and the error in the reason",
          "[docker-attestor]") {
  Fixture fixture;
  fixture.WriteCgroup("0::/docker/" + kId + "\n");
  TempDir other;
  std::string socket = other / "gone.sock";
  std::string error;

  SECTION("socket missing") { error = "socket missing"; }
  SECTION("connection refused") {
    REQUIRE(MakeDeadSocket(socket));
    error = "connection refused";
  }
  fixture.options().socket_path = socket;

  AttestResult result = fixture.Attest();

  CHECK(result.outcome == Outcome::kTransientError);
  CHECK(result.container_id == kId);
  CHECK(result.reason == "GET /containers/" + kId + "/json on " + socket + ": " + error);
}

TEST_CASE("A Docker that does not answer in time is transient within about the timeout",
          "[docker-attestor]") {
  Fixture fixture;
  fixture.WriteCgroup("0::/docker/" + kId + "\n");
  fixture.options().timeout = 300ms;

  // Each read returns in time, so only the deadline on the whole request ends it.
  SECTION("an answer trickling in") { fixture.api().Trickle(); }
  SECTION("no answer at all") { fixture.api().Hang(); }

  auto start = std::chrono::steady_clock::now();
  AttestResult result = fixture.Attest();
  auto elapsed = std::chrono::steady_clock::now() - start;

  CHECK(result.outcome == Outcome::kTransientError);
  CHECK_THAT(result.reason, Catch::Contains("timed out after 300ms"));
  // A bound, not a benchmark.
  CHECK(elapsed < 300ms + 1s);
}

TEST_CASE("Docker options no request could succeed with are rejected", "[docker-attestor]") {
  DockerOptions options;

  SECTION("empty socket path") { options.socket_path = ""; }
  SECTION("zero timeout") { options.timeout = 0s; }

  CHECK_FALSE(DockerAttestor::Create(options).ok());
}

}  // namespace
}  // namespace reattest::attestors
