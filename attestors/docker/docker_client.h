// A minimal Docker Engine API client: inspects one container over the
// daemon's Unix socket, with the attestor's `timeout` as a bound on the whole
// request (SPEC section 2).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/duration.h"

namespace reattest::attestors {

// The parts of `GET /containers/<id>/json` that attestation uses.
struct ContainerConfig {
  // Config.Labels; null in the JSON is empty here.
  std::map<std::string, std::string> labels;
  // Config.Image: the image name as given to `docker run`, not its digest.
  std::string image;
  // Config.Env, `KEY=VALUE` strings as Docker stores them; null is empty.
  std::vector<std::string> env;
};

// Parses an inspect response body. Errors (DataLoss) name what is malformed;
// exposed for tests.
absl::StatusOr<ContainerConfig> ParseContainerJson(std::string_view body);

// Immutable after construction, so one client may serve many threads at once.
// Each call opens its own connection.
class DockerClient {
 public:
  DockerClient(std::string socket_path, Duration timeout)
      : socket_path_(std::move(socket_path)), timeout_(timeout) {}

  // `GET /containers/<id>/json`. Blocks for at most about `timeout`.
  //
  // A value: Docker knows the container. nullopt: Docker answered 404.
  // An error: no usable answer (socket missing, connection refused, timeout,
  // an HTTP status other than 200 and 404, malformed JSON); the message reads
  // "GET /containers/<id>/json on <socket>: <what went wrong>".
  absl::StatusOr<std::optional<ContainerConfig>> InspectContainer(std::string_view id) const;

  const std::string& socket_path() const { return socket_path_; }

 private:
  const std::string socket_path_;
  const Duration timeout_;
};

}  // namespace reattest::attestors
