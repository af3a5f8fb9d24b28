#include "bench/proc_stats.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace reattest::bench {

long ResidentBytes(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::stol(line.substr(6)) * 1024;  // reported in kB
    }
  }
  return -1;
}

double CpuSeconds(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // Fields after the command name, which may hold spaces, start after the last ')'.
  size_t paren = text.rfind(')');
  if (paren == std::string::npos) {
    return -1;
  }
  std::istringstream fields(text.substr(paren + 2));
  std::string field;
  double ticks = 0;
  // utime and stime are fields 14 and 15; field 3 is the first after ')'.
  for (int number = 3; number <= 15 && fields >> field; ++number) {
    if (number >= 14) {
      ticks += std::stod(field);
    }
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace reattest::bench
