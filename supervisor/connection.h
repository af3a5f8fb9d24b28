// What the kernel said about a caller when it connected (SPEC section 4: the
// caller's PID, UID and GID come from the kernel at connection time, never
// from anything the caller sends).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>

#include "common/process.h"

namespace reattest::supervisor {

struct ConnectionInfo {
  // Unique per accepted connection, never reused (descriptor numbers are).
  uint64_t id = 0;
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  // Pins the process that connected; shared by the connection and its workload.
  std::shared_ptr<const Pidfd> pidfd;
};

}  // namespace reattest::supervisor
