#include "supervisor/defaults.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <string_view>

#include "common/strings.h"

namespace reattest::supervisor {
namespace {

// The XDG base directory spec says relative values are invalid and must be ignored.
const char* AbsoluteEnv(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && value[0] == '/' ? value : nullptr;
}

std::string HomeDir() {
  if (const char* home = AbsoluteEnv("HOME")) {
    return home;
  }
  // Services started without HOME still have a passwd entry.
  const passwd* entry = getpwuid(getuid());
  return entry != nullptr && entry->pw_dir != nullptr ? entry->pw_dir : "/";
}

}  // namespace

std::string DefaultSocketPath() {
  if (geteuid() == 0) {
    return "/run/reattest/api.sock";
  }
  if (const char* runtime_dir = AbsoluteEnv("XDG_RUNTIME_DIR")) {
    return Concat(runtime_dir, "/reattest/api.sock");
  }
  return Concat("/tmp/reattest-", getuid(), "/api.sock");
}

std::string ClientSocketPath() {
  const char* value = std::getenv("SPIFFE_ENDPOINT_SOCKET");
  if (value == nullptr || value[0] == '\0') {
    return DefaultSocketPath();
  }
  std::string_view socket = value;
  // Longest prefix first: `unix:///run/x` must become `/run/x`, not `///run/x`.
  for (std::string_view scheme : {"unix://", "unix:"}) {
    if (socket.starts_with(scheme)) {
      return std::string(socket.substr(scheme.size()));
    }
  }
  return std::string(socket);
}

std::string DefaultDataDir() {
  if (geteuid() == 0) {
    return "/var/lib/reattest";
  }
  if (const char* state_home = AbsoluteEnv("XDG_STATE_HOME")) {
    return Concat(state_home, "/reattest");
  }
  return Concat(HomeDir(), "/.local/state/reattest");
}

}  // namespace reattest::supervisor
