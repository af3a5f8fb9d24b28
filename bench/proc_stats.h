// What /proc says about the server being measured: resident memory and CPU
// time. Read from the load generator so both servers are measured alike.
#pragma once

#include <sys/types.h>

namespace reattest::bench {

// VmRSS of `pid` in bytes, or -1.
long ResidentBytes(pid_t pid);
// User plus system CPU time of `pid` in seconds, or -1.
double CpuSeconds(pid_t pid);

}  // namespace reattest::bench
