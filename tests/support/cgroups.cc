#include "tests/support/cgroups.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <map>
#include <sstream>

namespace reattest::testing {
namespace {

std::vector<std::string> SplitOn(const std::string& text, char delimiter) {
  std::vector<std::string> pieces;
  std::stringstream stream(text);
  std::string piece;
  while (std::getline(stream, piece, delimiter)) {
    pieces.push_back(piece);
  }
  return pieces;
}

// Mount point per hierarchy key: "" for cgroup2, else the sorted controller
// list as /proc/PID/cgroup spells it ("cpu,cpuacct", "name=systemd").
std::map<std::string, std::string> CgroupMounts() {
  std::map<std::string, std::string> mounts;
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::string line;
  while (std::getline(mountinfo, line)) {
    size_t separator = line.find(" - ");
    if (separator == std::string::npos) {
      continue;
    }
    std::vector<std::string> fields = SplitOn(line.substr(0, separator), ' ');
    std::vector<std::string> tail = SplitOn(line.substr(separator + 3), ' ');
    if (fields.size() < 5 || tail.size() < 3) {
      continue;
    }
    if (tail[0] == "cgroup2") {
      mounts[""] = fields[4];
    } else if (tail[0] == "cgroup") {
      std::vector<std::string> keys;
      for (const std::string& option : SplitOn(tail[2], ',')) {
        if (option != "rw" && option != "ro" && option.find("release_agent") != 0 &&
            option != "clone_children" && option != "nsdelegate" && option != "xattr") {
          keys.push_back(option);
        }
      }
      std::string key;
      for (size_t i = 0; i < keys.size(); ++i) {
        key += (i ? "," : "") + keys[i];
      }
      mounts[key] = fields[4];
    }
  }
  return mounts;
}

// A new cpuset cgroup starts with no CPUs and no memory nodes, and refuses
// processes until it gets its parent's.
void InheritCpuset(const std::string& dir, const std::string& parent) {
  for (const char* file : {"/cpuset.cpus", "/cpuset.mems"}) {
    std::ifstream in(parent + file);
    std::string value;
    if (in && std::getline(in, value)) {
      std::ofstream(dir + file) << value;
    }
  }
}

}  // namespace

HandMadeCgroup::HandMadeCgroup(const std::string& path) {
  for (const auto& [key, mount] : CgroupMounts()) {
    std::string dir = mount;
    for (const std::string& segment : SplitOn(path, '/')) {
      if (segment.empty()) {
        continue;
      }
      std::string parent = dir;
      dir += "/" + segment;
      if (mkdir(dir.c_str(), 0755) == 0) {
        made_.push_back(dir);
        InheritCpuset(dir, parent);
      } else if (errno != EEXIST) {
        ok_ = false;
      }
    }
    procs_files_.push_back(dir + "/cgroup.procs");
  }
}

HandMadeCgroup::~HandMadeCgroup() {
  for (auto dir = made_.rbegin(); dir != made_.rend(); ++dir) {
    rmdir(dir->c_str());
  }
}

std::vector<std::string> CgroupProcsFilesOf(pid_t pid) {
  std::map<std::string, std::string> mounts = CgroupMounts();
  std::vector<std::string> files;
  std::ifstream cgroups("/proc/" + std::to_string(pid) + "/cgroup");
  std::string line;
  while (std::getline(cgroups, line)) {
    std::vector<std::string> parts = SplitOn(line, ':');
    if (parts.size() < 3) {
      continue;
    }
    auto mount = mounts.find(parts[1]);
    if (mount != mounts.end()) {
      files.push_back(mount->second + parts[2] + "/cgroup.procs");
    }
  }
  return files;
}

}  // namespace reattest::testing
