#include "attestors/unix/unix_attestor.h"

#include <fcntl.h>
#include <grp.h>
#include <openssl/evp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/process.h"
#include "common/strings.h"

namespace reattest::attestors {
namespace {

// Hashing streams the binary, so a large one costs this much memory, not its size.
constexpr size_t kHashChunkBytes = 64 << 10;
// A group with thousands of members needs a large buffer; beyond this, give up.
constexpr size_t kMaxLookupBufferBytes = 1 << 20;

// Closes the binary's descriptor on every return path of the hashing step.
class ScopedFd {
 public:
  explicit ScopedFd(int fd) : fd_(fd) {}
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  ~ScopedFd() {
    if (fd_ >= 0) {
      close(fd_);
    }
  }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

 private:
  int fd_;
};

AttestResult SoftError(const absl::Status& status) {
  AttestResult result;
  result.outcome = Outcome::kSoftError;
  result.reason = Concat(status.message());
  return result;
}

// getpwuid_r(3) and getgrgid_r(3) report "no such entry" as 0 with a null
// result or as one of these errors, depending on the NSS module.
bool IsNoEntry(int error) {
  return error == 0 || error == ENOENT || error == ESRCH || error == EBADF || error == EPERM;
}

// getpwuid_r(3) and getgrgid_r(3) have one shape.
template <typename Entry, typename Id>
using ReentrantLookup = int (*)(Id, Entry*, char*, size_t, Entry**);

// The name of a passwd or group entry, nullopt when the ID has none. A failed
// lookup (NSS backend unreachable, out of descriptors) is an error rather than
// "no name": reporting no name would drop name selectors the process has.
template <typename Entry, typename Id>
absl::StatusOr<std::optional<std::string>> LookupName(ReentrantLookup<Entry, Id> lookup, Id id,
                                                      char* Entry::*name, std::string_view what) {
  std::vector<char> buffer(1024);
  while (true) {
    Entry entry;
    Entry* found = nullptr;
    int error = lookup(id, &entry, buffer.data(), buffer.size(), &found);
    if (found != nullptr) {
      return std::string(found->*name);
    }
    if (error == ERANGE && buffer.size() < kMaxLookupBufferBytes) {
      buffer.resize(buffer.size() * 2);
      continue;
    }
    if (IsNoEntry(error)) {
      return std::nullopt;
    }
    return absl::ErrnoToStatus(error, Concat(what, "(", id, ")"));
  }
}

absl::StatusOr<std::optional<std::string>> UserName(uid_t uid) {
  return LookupName(getpwuid_r, uid, &passwd::pw_name, "getpwuid_r");
}

absl::StatusOr<std::optional<std::string>> GroupName(gid_t gid) {
  return LookupName(getgrgid_r, gid, &group::gr_name, "getgrgid_r");
}

// Adds `unix:ID_KEY:ID` and, when the ID has a name, `unix:NAME_KEY:NAME`.
absl::Status AddIdSelectors(std::string_view id_key, std::string_view name_key, uint32_t id,
                            const absl::StatusOr<std::optional<std::string>>& name,
                            SelectorSet& selectors) {
  if (!name.ok()) {
    return name.status();
  }
  selectors.insert(Concat("unix:", id_key, ":", id));
  if (name->has_value()) {
    selectors.insert(Concat("unix:", name_key, ":", **name));
  }
  return absl::OkStatus();
}

absl::Status AddCredentialSelectors(const ProcStatus& status, SelectorSet& selectors) {
  absl::Status added = AddIdSelectors("uid", "user", status.uid, UserName(status.uid), selectors);
  if (!added.ok()) {
    return added;
  }
  added = AddIdSelectors("gid", "group", status.gid, GroupName(status.gid), selectors);
  if (!added.ok()) {
    return added;
  }
  for (gid_t gid : status.supplementary_gids) {
    added =
        AddIdSelectors("supplementary_gid", "supplementary_group", gid, GroupName(gid), selectors);
    if (!added.ok()) {
      return added;
    }
  }
  return absl::OkStatus();
}

std::string LowerHex(const unsigned char* bytes, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * size);
  for (size_t i = 0; i < size; ++i) {
    hex.push_back(kDigits[bytes[i] >> 4]);
    hex.push_back(kDigits[bytes[i] & 0xf]);
  }
  return hex;
}

// Feeds everything readable from `fd` into `context`.
absl::Status DigestStream(int fd, const std::string& path, EVP_MD_CTX* context) {
  std::vector<unsigned char> chunk(kHashChunkBytes);
  while (true) {
    ssize_t size = read(fd, chunk.data(), chunk.size());
    if (size < 0 && errno == EINTR) {
      continue;
    }
    if (size < 0) {
      return absl::ErrnoToStatus(errno, Concat("read ", path));
    }
    if (size == 0) {
      return absl::OkStatus();
    }
    if (EVP_DigestUpdate(context, chunk.data(), static_cast<size_t>(size)) != 1) {
      return absl::InternalError(Concat("SHA-256 of ", path, ": EVP_DigestUpdate failed"));
    }
  }
}

absl::StatusOr<std::string> Sha256Hex(int fd, const std::string& path) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                  EVP_MD_CTX_free);
  if (context == nullptr || EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr) != 1) {
    return absl::InternalError(Concat("SHA-256 of ", path, ": no digest context"));
  }

  absl::Status digested = DigestStream(fd, path, context.get());
  if (!digested.ok()) {
    return digested;
  }

  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_DigestFinal_ex(context.get(), digest, &size) != 1) {
    return absl::InternalError(Concat("SHA-256 of ", path, ": EVP_DigestFinal_ex failed"));
  }
  return LowerHex(digest, size);
}

// Hashes the binary through /proc/PID/exe rather than by its path: the link
// opens the very file the process runs, even after it was deleted or replaced
// on disk, so the hash cannot describe a different binary than the one running.
absl::Status AddSha256Selector(const std::string& exe, uint64_t size_limit, AttestResult& result) {
  ScopedFd fd(open(exe.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return absl::ErrnoToStatus(errno, Concat("open ", exe));
  }

  struct stat info {};
  if (fstat(fd.get(), &info) != 0) {
    return absl::ErrnoToStatus(errno, Concat("fstat ", exe));
  }
  uint64_t size = static_cast<uint64_t>(info.st_size);
  if (size > size_limit) {
    result.reason = Concat("binary is ", size, " bytes, over workload_size_limit ", size_limit,
                           ": no unix:sha256 selector");
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> digest = Sha256Hex(fd.get(), exe);
  if (!digest.ok()) {
    return digest.status();
  }
  result.selectors.insert(Concat("unix:sha256:", *digest));
  return absl::OkStatus();
}

// unix:path is the link's text as the kernel gives it: for a binary deleted
// since exec it ends in " (deleted)", so entries naming the old path stop
// matching a process whose binary is no longer on disk.
absl::Status AddBinarySelectors(const std::string& exe, uint64_t size_limit, AttestResult& result) {
  absl::StatusOr<std::string> path = ReadLink(exe);
  if (!path.ok()) {
    return path.status();
  }
  result.selectors.insert(Concat("unix:path:", *path));
  return AddSha256Selector(exe, size_limit, result);
}

}  // namespace

AttestResult UnixAttestor::Attest(const AttestRequest& request) {
  // The process exited or may not be read by us: neither changes on a retry,
  // so this is soft_error, never transient_error.
  absl::StatusOr<ProcStatus> status = ReadProcStatus(request.proc_root, request.pid);
  if (!status.ok()) {
    return SoftError(status.status());
  }

  AttestResult result;
  absl::Status added = AddCredentialSelectors(*status, result.selectors);
  if (added.ok() && options_.discover_workload_path) {
    std::string exe = Concat(request.proc_root, "/", request.pid, "/exe");
    added = AddBinarySelectors(exe, options_.workload_size_limit, result);
  }
  if (!added.ok()) {
    return SoftError(added);
  }

  result.outcome = Outcome::kOk;
  return result;
}

}  // namespace reattest::attestors
