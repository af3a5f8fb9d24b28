// reattest: a SPIFFE node agent that re-attests instead of giving up.
// Command dispatch only; each command lives in its own file.
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "cli/agent.h"
#include "cli/api_fetch.h"
#include "cli/api_jwt.h"
#include "cli/api_watch.h"
#include "cli/embedded_default.h"
#include "cli/flags.h"
#include "cli/health_commands.h"
#include "common/strings.h"
#include "identity/entries_file.h"
#include "supervisor/config.h"
#include "supervisor/defaults.h"

namespace reattest::cli {
namespace {

constexpr char kUsage[] = R"(usage:
  reattest run [--config FILE]
  reattest config check --config FILE
  reattest api fetch x509 [--socket PATH] [--write DIR] [--timeout 5s]
  reattest api fetch jwt --audience A[,B] [--spiffe-id ID] [--socket PATH] [--timeout 5s]
  reattest api fetch bundles [--socket PATH] [--timeout 5s]
  reattest api validate jwt --audience A --svid TOKEN [--socket PATH] [--timeout 5s]
  reattest api watch [--socket PATH]
  reattest healthcheck [--url http://127.0.0.1:9989]
  reattest debug workloads [--url http://127.0.0.1:9989]
  reattest version
)";

int Usage() {
  std::fputs(kUsage, stderr);
  return 2;
}

// Parses flags or prints why not; `flags` is empty on error.
std::optional<Flags> ParseFlags(const std::vector<std::string>& args,
                                const std::set<std::string>& known) {
  absl::StatusOr<Flags> flags = Flags::Parse(args, known);
  if (!flags.ok()) {
    std::fprintf(stderr, "%s\n%s", std::string(flags.status().message()).c_str(), kUsage);
    return std::nullopt;
  }
  return *std::move(flags);
}

// Loads the named config file, printing every error as FILE:LINE: KEY: message.
std::optional<supervisor::Config> LoadOrReport(const std::string& path) {
  supervisor::ConfigResult result = supervisor::LoadConfigFile(path);
  for (const std::string& error : result.errors) {
    std::fprintf(stderr, "%s\n", error.c_str());
  }
  return result.config;
}

int Run(const std::vector<std::string>& args) {
  std::optional<Flags> flags = ParseFlags(args, {"config"});
  if (!flags || !flags->positional().empty()) {
    return Usage();
  }
  std::optional<std::string> path = flags->Get("config");
  if (!path) {
    absl::StatusOr<supervisor::Config> config = PrepareEmbeddedDefault();
    if (!config.ok()) {
      std::fprintf(stderr, "embedded default: %s\n",
                   std::string(config.status().message()).c_str());
      return 1;
    }
    return RunAgent(*config);
  }
  std::optional<supervisor::Config> config = LoadOrReport(*path);
  return config ? RunAgent(*config) : 1;
}

int ConfigCheck(const std::vector<std::string>& args) {
  std::optional<Flags> flags = ParseFlags(args, {"config"});
  if (!flags || flags->positional() != std::vector<std::string>{"check"} || !flags->Get("config")) {
    return Usage();
  }
  std::optional<supervisor::Config> config = LoadOrReport(*flags->Get("config"));
  if (!config) {
    return 1;
  }
  // "The files it names" (SPEC section 7) include the entries, whose content matters too.
  absl::StatusOr<std::vector<identity::Entry>> entries =
      identity::LoadEntriesFile(config->local.entries_file, config->trust_domain);
  if (!entries.ok()) {
    std::fprintf(stderr, "%s\n", std::string(entries.status().message()).c_str());
    return 1;
  }
  std::printf("ok\n");
  return 0;
}

// The JWT calls need their flags; nullopt (after printing why) when missing.
std::optional<int> ApiJwt(const Flags& flags, const FetchOptions& options) {
  using Words = std::vector<std::string>;
  std::optional<std::string> audience = flags.Get("audience");
  if (flags.positional() == Words{"fetch", "bundles"}) {
    return FetchBundles(options);
  }
  if (flags.positional() == Words{"fetch", "jwt"} && audience) {
    std::vector<std::string> names;
    for (std::string_view name : Split(*audience, ",")) {
      names.emplace_back(name);
    }
    return FetchJwt(options, names, flags.Get("spiffe-id").value_or(""));
  }
  std::optional<std::string> svid = flags.Get("svid");
  if (flags.positional() == Words{"validate", "jwt"} && audience && svid) {
    return ValidateJwt(options, *audience, *svid);
  }
  return std::nullopt;
}

int Api(const std::vector<std::string>& args) {
  std::optional<Flags> flags =
      ParseFlags(args, {"socket", "write", "timeout", "audience", "spiffe-id", "svid"});
  if (flags && flags->positional() == std::vector<std::string>{"watch"}) {
    return WatchX509(flags->Get("socket").value_or(supervisor::ClientSocketPath()));
  }
  if (!flags) {
    return Usage();
  }
  FetchOptions options;
  options.socket_path = flags->Get("socket").value_or(supervisor::ClientSocketPath());
  options.write_dir = flags->Get("write").value_or("");
  if (std::optional<std::string> timeout = flags->Get("timeout")) {
    absl::StatusOr<Duration> parsed = ParseDuration(*timeout);
    if (!parsed.ok()) {
      std::fprintf(stderr, "--timeout: %s\n", std::string(parsed.status().message()).c_str());
      return 2;
    }
    options.timeout = *parsed;
  }
  if (flags->positional() == std::vector<std::string>{"fetch", "x509"}) {
    return FetchX509(options);
  }
  std::optional<int> status = ApiJwt(*flags, options);
  return status ? *status : Usage();
}

int HealthCommand(const std::vector<std::string>& args, bool debug) {
  std::optional<Flags> flags = ParseFlags(args, {"url"});
  std::vector<std::string> expected =
      debug ? std::vector<std::string>{"workloads"} : std::vector<std::string>{};
  if (!flags || flags->positional() != expected) {
    return Usage();
  }
  std::string url = flags->Get("url").value_or(kDefaultHealthUrl);
  return debug ? DebugWorkloads(url) : Healthcheck(url);
}

}  // namespace
}  // namespace reattest::cli

int main(int argc, char** argv) {
  using namespace reattest::cli;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    return Usage();
  }
  std::string command = args.front();
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (command == "run") {
    return Run(rest);
  }
  if (command == "config") {
    return ConfigCheck(rest);
  }
  if (command == "api") {
    return Api(rest);
  }
  if (command == "healthcheck" || command == "debug") {
    return HealthCommand(rest, command == "debug");
  }
  if (command == "version") {
    std::printf("reattest %s\n", REATTEST_VERSION);
    return 0;
  }
  return Usage();
}
