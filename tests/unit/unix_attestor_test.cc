#include "attestors/unix/unix_attestor.h"

#include <grp.h>
#include <openssl/evp.h>
#include <pwd.h>
#include <stdlib.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

#include "common/strings.h"
#include "tests/unit/child_process.h"

namespace reattest::attestors {
namespace {

using testing::ChildProcess;

// IDs that Debian images leave without passwd or group entries.
constexpr uid_t kUnnamedUid = 1234;
constexpr gid_t kUnnamedGid = 2345;
constexpr gid_t kUnnamedGroupA = 4242;
constexpr gid_t kUnnamedGroupB = 4343;

// A fake procfs root (or any scratch tree), removed with everything in it.
class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/reattest-unix-XXXXXX";
    if (mkdtemp(pattern) != nullptr) {
      path_ = pattern;
    }
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

  const std::string& path() const { return path_; }

  // Writes `contents` to `relative`, creating its directories.
  std::string Write(const std::string& relative, const std::string& contents) const {
    std::filesystem::path file = std::filesystem::path(path_) / relative;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << contents;
    return file.string();
  }

 private:
  std::string path_;
};

AttestRequest Request(pid_t pid, const std::string& proc_root = "/proc") {
  AttestRequest request;
  request.pid = pid;
  request.proc_root = proc_root;
  return request;
}

// A blocked child whose effective and supplementary IDs are these.
std::unique_ptr<ChildProcess> ChildWithIds(uid_t uid, gid_t gid, std::vector<gid_t> groups) {
  return ChildProcess::Block([&] {
    return setgroups(groups.size(), groups.data()) == 0 && setgid(gid) == 0 && setuid(uid) == 0;
  });
}

// The exact-set tests below need IDs that have no names on this machine.
bool HaveNoNames(uid_t uid, std::initializer_list<gid_t> gids) {
  if (getpwuid(uid) != nullptr) {
    return false;
  }
  for (gid_t gid : gids) {
    if (getgrgid(gid) != nullptr) {
      return false;
    }
  }
  return true;
}

std::string ReadWholeFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
}

// One-shot digest of the whole contents: an independent check of the attestor's streaming.
std::string Sha256Hex(const std::string& contents) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  REQUIRE(EVP_Digest(contents.data(), contents.size(), digest, &size, EVP_sha256(), nullptr) == 1);
  std::string hex;
  for (unsigned int i = 0; i < size; ++i) {
    char byte[3];
    snprintf(byte, sizeof(byte), "%02x", digest[i]);
    hex += byte;
  }
  return hex;
}

bool HasSelectorOfKind(const SelectorSet& selectors, std::string_view prefix) {
  for (const std::string& selector : selectors) {
    if (selector.starts_with(prefix)) {
      return true;
    }
  }
  return false;
}

TEST_CASE("The unix attestor is a /proc attestor named unix", "[unix]") {
  UnixAttestor attestor(UnixOptions{});
  CHECK(attestor.name() == "unix");
  CHECK(attestor.work_kind() == WorkKind::kProc);
}

TEST_CASE("A process's effective IDs become uid, gid and supplementary_gid selectors", "[unix]") {
  if (!HaveNoNames(kUnnamedUid, {kUnnamedGid, kUnnamedGroupA, kUnnamedGroupB})) {
    WARN("test IDs have passwd or group entries on this machine; skipped");
    return;
  }
  auto child = ChildWithIds(kUnnamedUid, kUnnamedGid, {kUnnamedGroupA, kUnnamedGroupB});
  REQUIRE(child != nullptr);
  REQUIRE(child->ready());

  AttestResult result = UnixAttestor(UnixOptions{}).Attest(Request(child->pid()));

  CHECK(result.outcome == Outcome::kOk);
  CHECK(result.selectors == SelectorSet{"unix:uid:1234", "unix:gid:2345",
                                        "unix:supplementary_gid:4242",
                                        "unix:supplementary_gid:4343"});
}

TEST_CASE("IDs with passwd and group entries also get name selectors", "[unix]") {
  auto child = ChildWithIds(0, 0, {0});
  REQUIRE(child != nullptr);
  REQUIRE(child->ready());

  AttestResult result = UnixAttestor(UnixOptions{}).Attest(Request(child->pid()));

  CHECK(result.outcome == Outcome::kOk);
  CHECK(result.selectors == SelectorSet{"unix:uid:0", "unix:user:root", "unix:gid:0",
                                        "unix:group:root", "unix:supplementary_gid:0",
                                        "unix:supplementary_group:root"});
}

TEST_CASE("With discover_workload_path, the running binary's path and SHA-256 are selectors",
          "[unix]") {
  auto child = ChildProcess::Exec({"/bin/sleep", "infinity"});
  REQUIRE(child != nullptr);
  REQUIRE(child->ready());
  UnixOptions options;
  options.discover_workload_path = true;

  AttestResult result = UnixAttestor(options).Attest(Request(child->pid()));

  CHECK(result.outcome == Outcome::kOk);
  // /bin is a symlink to /usr/bin on merged-/usr systems; the kernel names the real file.
  std::string path = std::filesystem::canonical("/bin/sleep").string();
  CHECK(result.selectors.count(Concat("unix:path:", path)) == 1);
  CHECK(result.selectors.count(Concat("unix:sha256:", Sha256Hex(ReadWholeFile(path)))) == 1);
  CHECK(result.selectors.count("unix:uid:0") == 1);
  CHECK(result.reason.empty());
}

TEST_CASE("A binary larger than workload_size_limit gets a path but no sha256 selector", "[unix]") {
  auto child = ChildProcess::Exec({"/bin/sleep", "infinity"});
  REQUIRE(child != nullptr);
  REQUIRE(child->ready());
  UnixOptions options;
  options.discover_workload_path = true;
  options.workload_size_limit = std::filesystem::file_size("/bin/sleep") - 1;

  AttestResult result = UnixAttestor(options).Attest(Request(child->pid()));

  CHECK(result.outcome == Outcome::kOk);
  CHECK(HasSelectorOfKind(result.selectors, "unix:path:"));
  CHECK_FALSE(HasSelectorOfKind(result.selectors, "unix:sha256:"));
  // The caller logs this as a warning.
  CHECK_FALSE(result.reason.empty());
}

TEST_CASE("A PID that names no process is soft_error", "[unix]") {
  // No PID exceeds pid_max, so this one cannot exist even by reuse.
  pid_t pid_max = 0;
  REQUIRE(ParseInteger(Trim(ReadWholeFile("/proc/sys/kernel/pid_max")), pid_max));

  AttestResult result = UnixAttestor(UnixOptions{}).Attest(Request(pid_max + 1));

  CHECK(result.outcome == Outcome::kSoftError);
  CHECK(result.selectors.empty());
  CHECK_FALSE(result.reason.empty());
}

TEST_CASE("The status file is read under proc_root, using the effective IDs", "[unix]") {
  if (!HaveNoNames(kUnnamedUid, {kUnnamedGid, kUnnamedGroupA})) {
    WARN("test IDs have passwd or group entries on this machine; skipped");
    return;
  }
  TempDir proc;
  REQUIRE_FALSE(proc.path().empty());
  proc.Write("77/status",
             "Name:\tfake\nUid:\t1000\t1234\t1000\t1000\nGid:\t100\t2345\t100\t100\n"
             "Groups:\t4242 \n");

  AttestResult result = UnixAttestor(UnixOptions{}).Attest(Request(77, proc.path()));

  CHECK(result.outcome == Outcome::kOk);
  CHECK(result.selectors ==
        SelectorSet{"unix:uid:1234", "unix:gid:2345", "unix:supplementary_gid:4242"});
}

TEST_CASE("The sha256 selector is the lowercase hex digest of the whole binary", "[unix]") {
  TempDir proc;
  REQUIRE_FALSE(proc.path().empty());
  proc.Write("77/status", "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\t\n");
  UnixOptions options;
  options.discover_workload_path = true;

  SECTION("a known answer") {
    std::string binary = proc.Write("bin/abc", "abc");
    std::filesystem::create_symlink(binary, proc.path() + "/77/exe");

    AttestResult result = UnixAttestor(options).Attest(Request(77, proc.path()));

    CHECK(result.outcome == Outcome::kOk);
    CHECK(result.selectors.count(Concat("unix:path:", binary)) == 1);
    CHECK(result.selectors.count(
              "unix:sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 1);
  }

  SECTION("a binary spanning several read chunks") {
    std::string contents;
    for (int i = 0; i < 200 * 1024 + 17; ++i) {
      contents.push_back(static_cast<char>(i * 7919 % 251));
    }
    std::string binary = proc.Write("bin/big", contents);
    std::filesystem::create_symlink(binary, proc.path() + "/77/exe");

    AttestResult result = UnixAttestor(options).Attest(Request(77, proc.path()));

    CHECK(result.outcome == Outcome::kOk);
    CHECK(result.selectors.count(Concat("unix:sha256:", Sha256Hex(contents))) == 1);
  }
}

TEST_CASE("A process whose binary cannot be read is soft_error when paths are discovered",
          "[unix]") {
  TempDir proc;
  REQUIRE_FALSE(proc.path().empty());
  proc.Write("77/status", "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\t\n");
  UnixOptions options;
  options.discover_workload_path = true;

  AttestResult result = UnixAttestor(options).Attest(Request(77, proc.path()));

  CHECK(result.outcome == Outcome::kSoftError);
  CHECK(result.selectors.empty());
  CHECK_FALSE(result.reason.empty());
}

}  // namespace
}  // namespace reattest::attestors
