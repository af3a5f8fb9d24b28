#include "attestors/container_lookup.h"

#include <chrono>

#include "common/process.h"
#include "common/strings.h"

namespace reattest::attestors {
namespace {

absl::StatusOr<CgroupInfo> ReadCgroups(const AttestRequest& request) {
  absl::StatusOr<std::string> contents =
      ReadSmallFile(Concat(request.proc_root, "/", request.pid, "/cgroup"));
  if (!contents.ok()) {
    return contents.status();
  }
  return ParseCgroups(*contents);
}

}  // namespace

AttestResult WithOutcome(Outcome outcome, std::string reason, AttestResult result) {
  result.outcome = outcome;
  result.reason = std::move(reason);
  return result;
}

Recognition RecogniseContainer(const AttestRequest& request,
                               bool (*applies)(const CgroupInfo& cgroups)) {
  Recognition recognition;
  absl::StatusOr<CgroupInfo> cgroups = ReadCgroups(request);
  if (!cgroups.ok()) {
    recognition.result = WithOutcome(Outcome::kSoftError, Concat(cgroups.status().message()));
    return recognition;
  }
  recognition.recognised = applies(*cgroups);
  if (recognition.recognised) {
    recognition.result.container_id = cgroups->container_id;
    recognition.result.pod_uid = cgroups->pod_uid;
  }
  return recognition;
}

absl::StatusOr<Duration> ProcessAge(const AttestRequest& request) {
  uint64_t start_time = request.start_time_ticks;
  if (start_time == 0) {
    absl::StatusOr<uint64_t> read = ReadStartTime(request.proc_root, request.pid);
    if (!read.ok()) {
      return read.status();
    }
    start_time = *read;
  }
  return std::chrono::duration_cast<Duration>(
      std::chrono::duration<double>(ProcessAgeSeconds(start_time)));
}

AttestResult NotFoundResult(const AttestRequest& request, Duration grace, std::string unknown,
                            AttestResult result) {
  absl::StatusOr<Duration> process_age = ProcessAge(request);
  if (!process_age.ok()) {
    return WithOutcome(
        Outcome::kSoftError,
        Concat(unknown, ", and the process's age is unknown: ", process_age.status().message()),
        std::move(result));
  }

  Duration age = *process_age;
  std::string ages = Concat("process is ", FormatDuration(age), " old, not_found_grace is ",
                            FormatDuration(grace));
  if (age < grace) {
    return WithOutcome(Outcome::kTransientError, Concat(unknown, " yet (", ages, ")"),
                       std::move(result));
  }
  return WithOutcome(Outcome::kSoftError, Concat(unknown, " (", ages, ")"), std::move(result));
}

}  // namespace reattest::attestors
