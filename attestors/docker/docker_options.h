// Settings of the docker attestor (`attestors.docker` in the config file).
#pragma once

#include <string>

#include "common/duration.h"

namespace reattest::attestors {

struct DockerOptions {
  std::string socket_path = "/var/run/docker.sock";
  // Bounds each Docker Engine API request end to end.
  Duration timeout = std::chrono::seconds(2);
  // A container Docker does not know is retried only while its process is younger.
  Duration not_found_grace = std::chrono::seconds(30);
};

}  // namespace reattest::attestors
