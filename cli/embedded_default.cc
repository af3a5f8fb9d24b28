#include "cli/embedded_default.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/strings.h"

namespace reattest::cli {
namespace {

std::string InvokingUserName(uid_t uid) {
  passwd entry{};
  passwd* found = nullptr;
  std::vector<char> buf(16384);
  if (getpwuid_r(uid, &entry, buf.data(), buf.size(), &found) == 0 && found != nullptr) {
    return found->pw_name;
  }
  return Concat("uid-", uid);
}

}  // namespace

absl::StatusOr<supervisor::Config> PrepareEmbeddedDefault() {
  supervisor::Config config = supervisor::EmbeddedDefaultConfig();
  std::error_code error;
  std::filesystem::create_directories(config.data_dir, error);
  if (error) {
    return absl::InternalError(Concat("cannot create ", config.data_dir, ": ", error.message()));
  }
  chmod(config.data_dir.c_str(), 0700);

  uid_t uid = getuid();
  std::string entries =
      Concat("# Written by `reattest run` with no config; regenerated at every start.\n",
             "entries:\n", "  - spiffe_id: spiffe://", config.trust_domain, "/user/",
             InvokingUserName(uid), "\n", "    selectors: [unix:uid:", uid, "]\n");
  std::ofstream out(config.local.entries_file, std::ios::trunc);
  out << entries;
  out.close();
  if (!out) {
    return absl::InternalError(Concat("cannot write ", config.local.entries_file));
  }
  return config;
}

}  // namespace reattest::cli
