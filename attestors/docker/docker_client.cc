#include "attestors/docker/docker_client.h"

#include <httplib.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "attestors/http_deadline.h"
#include "common/strings.h"

namespace reattest::attestors {
namespace {

// Docker's Go server rejects a socket path in `Host` with 400, and cpp-httplib
// sends the socket path there unless told otherwise. Any hostname will do.
constexpr char kHost[] = "docker";
// Error bodies are quoted in messages up to this length.
constexpr size_t kMaxQuotedBody = 200;

absl::Status Malformed(std::string_view what) {
  return absl::DataLossError(Concat("malformed container JSON: ", what));
}

// Config.Labels: an object of strings, or null.
absl::Status ParseLabels(simdjson::dom::element config, std::map<std::string, std::string>& out) {
  simdjson::dom::element labels;
  if (config["Labels"].get(labels) != simdjson::SUCCESS || labels.is_null()) {
    return absl::OkStatus();
  }
  simdjson::dom::object object;
  if (labels.get(object) != simdjson::SUCCESS) {
    return Malformed("Config.Labels is not an object");
  }
  for (simdjson::dom::key_value_pair label : object) {
    std::string_view value;
    if (label.value.get(value) != simdjson::SUCCESS) {
      return Malformed(Concat("Config.Labels.", label.key, " is not a string"));
    }
    out.emplace(label.key, value);
  }
  return absl::OkStatus();
}

// Config.Env: an array of strings, or null.
absl::Status ParseEnv(simdjson::dom::element config, std::vector<std::string>& out) {
  simdjson::dom::element env;
  if (config["Env"].get(env) != simdjson::SUCCESS || env.is_null()) {
    return absl::OkStatus();
  }
  simdjson::dom::array array;
  if (env.get(array) != simdjson::SUCCESS) {
    return Malformed("Config.Env is not an array");
  }
  for (simdjson::dom::element variable : array) {
    std::string_view value;
    if (variable.get(value) != simdjson::SUCCESS) {
      return Malformed("Config.Env holds a non-string");
    }
    out.emplace_back(value);
  }
  return absl::OkStatus();
}

// Why a connect failed. cpp-httplib reports a failed connect without its
// errno, so this connects once more to tell "connection refused" (daemon
// down, socket file left behind) from "socket missing" (daemon stopped).
std::string ConnectFailure(const std::string& socket_path) {
  sockaddr_un address{};
  if (socket_path.size() >= sizeof(address.sun_path)) {
    return "socket path too long";
  }
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, socket_path.c_str(), socket_path.size() + 1);

  // Non-blocking: a full listen backlog fails with EAGAIN instead of waiting.
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    return Concat("socket: ", std::strerror(errno));
  }
  int error = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 ? 0 : errno;
  close(fd);

  switch (error) {
    case 0:
      return "connect failed, but a second connect succeeded";
    case ECONNREFUSED:
      return "connection refused";
    case ENOENT:
      return "socket missing";
    default:
      return Concat("connect: ", std::strerror(error));
  }
}

// Docker's error bodies are `{"message": "..."}`; anything else is quoted short.
std::string ErrorMessage(const std::string& body) {
  simdjson::dom::parser parser;
  std::string_view message;
  if (parser.parse(body).get_object()["message"].get(message) == simdjson::SUCCESS) {
    return std::string(message);
  }
  return body.substr(0, kMaxQuotedBody);
}

}  // namespace

absl::StatusOr<ContainerConfig> ParseContainerJson(std::string_view body) {
  simdjson::dom::parser parser;
  simdjson::dom::element document;
  if (parser.parse(body.data(), body.size()).get(document) != simdjson::SUCCESS) {
    return Malformed("not JSON");
  }
  simdjson::dom::element config;
  if (document["Config"].get(config) != simdjson::SUCCESS || !config.is_object()) {
    return Malformed("no Config object");
  }

  ContainerConfig parsed;
  std::string_view image;
  if (config["Image"].get(image) != simdjson::SUCCESS) {
    return Malformed("Config.Image is not a string");
  }
  parsed.image = image;
  absl::Status status = ParseLabels(config, parsed.labels);
  if (status.ok()) {
    status = ParseEnv(config, parsed.env);
  }
  if (!status.ok()) {
    return status;
  }
  return parsed;
}

absl::StatusOr<std::optional<ContainerConfig>> DockerClient::InspectContainer(
    std::string_view id) const {
  std::string path = Concat("/containers/", id, "/json");
  std::string request = Concat("GET ", path, " on ", socket_path_);

  httplib::Client client(socket_path_);
  client.set_address_family(AF_UNIX);
  client.set_connection_timeout(timeout_);
  client.set_read_timeout(timeout_);
  client.set_write_timeout(timeout_);

  RequestDeadline deadline(client, timeout_);
  httplib::Result result = client.Get(path.c_str(), httplib::Headers{{"Host", kHost}});
  bool expired = deadline.Disarm();

  if (expired || result.error() == httplib::Error::ConnectionTimeout) {
    return absl::DeadlineExceededError(
        Concat(request, ": timed out after ", FormatDuration(timeout_)));
  }
  if (result.error() == httplib::Error::Connection) {
    return absl::UnavailableError(Concat(request, ": ", ConnectFailure(socket_path_)));
  }
  if (!result) {
    // A read error is also how cpp-httplib reports its per-read timeout.
    return absl::UnavailableError(Concat(request, ": ", httplib::to_string(result.error())));
  }

  if (result->status == 404) {
    return std::nullopt;
  }
  if (result->status != 200) {
    return absl::UnavailableError(
        Concat(request, ": HTTP ", result->status, ": ", ErrorMessage(result->body)));
  }
  absl::StatusOr<ContainerConfig> config = ParseContainerJson(result->body);
  if (!config.ok()) {
    return absl::Status(config.status().code(), Concat(request, ": ", config.status().message()));
  }
  return *std::move(config);
}

}  // namespace reattest::attestors
