// Where reattest puts its socket and state when the config does not say
// (SPEC section 7). Each function reads the environment on every call, so
// tests may change it; none of them touches the file system.
#pragma once

#include <string>

namespace reattest::supervisor {

// The server's socket: /run/reattest/api.sock for root, else
// $XDG_RUNTIME_DIR/reattest/api.sock, else /tmp/reattest-$UID/api.sock.
std::string DefaultSocketPath();

// The socket client commands connect to: $SPIFFE_ENDPOINT_SOCKET when set (a
// plain path, `unix:///PATH` or `unix:PATH`), else DefaultSocketPath(). A
// value with another scheme is returned unchanged, so connecting to it fails
// with the value in the message.
std::string ClientSocketPath();

// The state directory: /var/lib/reattest for root, else
// ${XDG_STATE_HOME:-$HOME/.local/state}/reattest.
std::string DefaultDataDir();

}  // namespace reattest::supervisor
