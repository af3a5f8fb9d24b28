#include "attestors/cgroup.h"

#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "common/strings.h"

namespace reattest::attestors {
namespace {

using Runtime = CgroupInfo::Runtime;

constexpr size_t kContainerIdDigits = 64;
// A pod UID is a UUID (32 hex digits and 4 dashes); a static pod's is the
// 32-hex hash of its manifest. Requiring the count keeps `podman` and the
// like from reading as pods.
constexpr size_t kPodUidDigits = 32;

struct ScopePrefix {
  std::string_view prefix;
  Runtime runtime;
};

// systemd spellings of a container's scope, `<prefix><id>.scope`.
constexpr ScopePrefix kScopePrefixes[] = {
    {"docker-", Runtime::kDocker},
    {"cri-containerd-", Runtime::kContainerd},
    {"crio-", Runtime::kCrio},
    {"libpod-", Runtime::kLibpod},
};

// What one line's path says.
struct PathFacts {
  std::string_view container_id;
  Runtime runtime = Runtime::kNone;
  std::string pod_uid;
  bool under_kubepods = false;
};

bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool IsContainerId(std::string_view text) {
  if (text.size() != kContainerIdDigits) {
    return false;
  }
  for (char c : text) {
    if (!IsHexDigit(c)) {
      return false;
    }
  }
  return true;
}

bool ConsumePrefix(std::string_view& text, std::string_view prefix) {
  if (!text.starts_with(prefix)) {
    return false;
  }
  text.remove_prefix(prefix.size());
  return true;
}

void ConsumeSuffix(std::string_view& text, std::string_view suffix) {
  if (text.ends_with(suffix)) {
    text.remove_suffix(suffix.size());
  }
}

// The container that `segment` names, if any. A bare ID is Docker's only
// directly under `docker` (its cgroupfs parent); elsewhere the path cannot
// tell whose it is.
std::optional<PathFacts> ContainerOfSegment(std::string_view segment, std::string_view parent) {
  ConsumeSuffix(segment, ".scope");
  PathFacts facts;
  for (const ScopePrefix& scope : kScopePrefixes) {
    std::string_view id = segment;
    if (ConsumePrefix(id, scope.prefix) && IsContainerId(id)) {
      facts.container_id = id;
      facts.runtime = scope.runtime;
      return facts;
    }
  }
  if (!IsContainerId(segment)) {
    return std::nullopt;
  }
  facts.container_id = segment;
  facts.runtime = parent == "docker" ? Runtime::kDocker : Runtime::kDockershimOrOther;
  return facts;
}

// `<uid>` of a `pod<uid>` segment, `_` turned into `-`: cgroupfs writes
// `pod1b2c...-...`, systemd `kubepods-besteffort-pod1b2c..._....slice`, so
// the `pod` word starts the segment or follows a `-`.
std::optional<std::string> PodUidOfSegment(std::string_view segment) {
  ConsumeSuffix(segment, ".slice");
  for (size_t start = 0; start < segment.size();) {
    std::string_view candidate = segment.substr(start);
    size_t digits = 0;
    bool valid = ConsumePrefix(candidate, "pod");
    for (char c : candidate) {
      digits += IsHexDigit(c) ? 1 : 0;
      valid = valid && (IsHexDigit(c) || c == '-' || c == '_');
    }
    if (valid && digits == kPodUidDigits) {
      std::string uid(candidate);
      for (char& c : uid) {
        c = c == '_' ? '-' : c;
      }
      return uid;
    }
    size_t dash = segment.find('-', start);
    start = dash == std::string_view::npos ? segment.size() : dash + 1;
  }
  return std::nullopt;
}

// Walks one cgroup path from the leaf up; the segment nearest the leaf wins,
// so a container nested in another (Docker in Docker) is the inner one.
PathFacts FactsOfPath(std::string_view path) {
  std::vector<std::string_view> segments = Split(path, "/");
  PathFacts facts;
  for (size_t i = segments.size(); i-- > 0;) {
    std::string_view parent = i > 0 ? segments[i - 1] : std::string_view();
    if (facts.runtime == Runtime::kNone) {
      std::optional<PathFacts> container = ContainerOfSegment(segments[i], parent);
      if (container.has_value()) {
        facts.container_id = container->container_id;
        facts.runtime = container->runtime;
      }
    }
    if (facts.pod_uid.empty()) {
      facts.pod_uid = PodUidOfSegment(segments[i]).value_or("");
    }
    facts.under_kubepods = facts.under_kubepods || segments[i].starts_with("kubepods");
  }
  return facts;
}

// The path of a `hierarchy-ID:controllers:path` line, nullopt when the line is
// malformed. Only the first two colons separate fields: a path may hold more.
std::optional<std::string_view> PathOfLine(std::string_view line) {
  size_t first = line.find(':');
  if (first == std::string_view::npos) {
    return std::nullopt;
  }
  size_t second = line.find(':', first + 1);
  unsigned hierarchy = 0;
  if (second == std::string_view::npos || !ParseInteger(line.substr(0, first), hierarchy)) {
    return std::nullopt;
  }
  std::string_view path = line.substr(second + 1);
  if (!path.starts_with('/')) {
    return std::nullopt;
  }
  return path;
}

// Folds one line's facts into `info`; an error when they contradict it.
absl::Status Merge(const PathFacts& facts, CgroupInfo& info) {
  if (!facts.container_id.empty()) {
    if (!info.container_id.empty() && info.container_id != facts.container_id) {
      return absl::InvalidArgumentError(Concat(
          "cgroup paths name two containers: ", info.container_id, " and ", facts.container_id));
    }
    info.container_id = facts.container_id;
    // A line that names the runtime says more than one with a bare ID.
    if (info.runtime == Runtime::kNone || info.runtime == Runtime::kDockershimOrOther) {
      info.runtime = facts.runtime;
    }
  }
  if (!facts.pod_uid.empty()) {
    if (!info.pod_uid.empty() && info.pod_uid != facts.pod_uid) {
      return absl::InvalidArgumentError(
          Concat("cgroup paths name two pods: ", info.pod_uid, " and ", facts.pod_uid));
    }
    info.pod_uid = facts.pod_uid;
  }
  info.under_kubepods = info.under_kubepods || facts.under_kubepods;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<CgroupInfo> ParseCgroups(std::string_view proc_pid_cgroup) {
  CgroupInfo info;
  for (std::string_view line : Split(proc_pid_cgroup, "\n")) {
    std::optional<std::string_view> path = PathOfLine(line);
    if (!path.has_value()) {
      continue;
    }
    absl::Status merged = Merge(FactsOfPath(*path), info);
    if (!merged.ok()) {
      return merged;
    }
  }
  return info;
}

}  // namespace reattest::attestors
