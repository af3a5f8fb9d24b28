// The agent's configuration (SPEC section 6): loading, validation, the
// embedded default, and which changes a SIGHUP reload cannot apply.
//
// The loader only reads and stats files; it never creates data_dir or the
// socket, so `reattest config check` can run it anywhere. It throws nothing:
// yaml-cpp's exceptions are caught inside and become errors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "attestors/registry.h"
#include "common/duration.h"
#include "common/log.h"
#include "identity/local/local_options.h"

namespace reattest::supervisor {

struct LimitsConfig {
  int max_connections_per_uid = 256;
  int max_streams_per_connection = 100;
};

struct ReattestationConfig {
  Duration initial_backoff = std::chrono::milliseconds(500);
  Duration max_backoff = std::chrono::seconds(30);
  double multiplier = 2.0;
  double jitter = 0.2;
  // Retries after the first failure; 0 = unlimited.
  int max_attempts = 0;
  // 0 = off.
  Duration periodic_interval = std::chrono::minutes(5);
  Duration hold_timeout = std::chrono::seconds(30);
};

struct SdsConfig {
  std::string default_svid_name = "default";
  std::string default_bundle_name = "ROOTCA";
  std::string default_all_bundles_name = "ALL";
  bool disable_spiffe_cert_validation = false;
};

// Every path in a Config is absolute: the loader resolves relative ones
// against the directory of the config file.
struct Config {
  // Absolute path of the file it came from; "" for the embedded default.
  std::string file;
  std::string trust_domain;
  std::string socket_path;
  uint32_t socket_mode = 0666;
  std::string data_dir;
  std::string proc_root = "/proc";
  log::Level log_level = log::Level::kInfo;
  log::Format log_format = log::Format::kJson;
  // host:port; the listener is off when absent.
  std::optional<std::string> metrics_listen;
  std::optional<std::string> health_listen;
  LimitsConfig limits;
  // An attestor is enabled by being present in the file.
  attestors::AttestorsOptions attestors;
  ReattestationConfig reattestation;
  // Only "local" is accepted in this release.
  std::string identity_source = "local";
  identity::LocalOptions local;
  SdsConfig sds;
};

// Exactly one of the two is set: `config` when the file is valid, else one
// `errors` line per problem found, in file order.
struct ConfigResult {
  std::optional<Config> config;
  std::vector<std::string> errors;
};

// Reads and validates the file at `path`. Each error reads
// `FILE:LINE: KEY: message` (FILE as given, LINE 1-based, KEY dotted, as in
// `reattestation.initial_backoff`). Two kinds of error have no key:
// `FILE:LINE: invalid YAML: ...` for a syntax error and `FILE: cannot read:
// ...` (no line either) when the file itself cannot be read. Entries of
// `identity.local.federated_bundles` are named in the message, since trust
// domains contain dots. Files the config names must exist; null values mean
// "the default" (except for attestors, where `unix:` enables one).
ConfigResult LoadConfigFile(const std::string& path);

// As LoadConfigFile, on text already read; `file_name` is used in errors and
// relative paths resolve against its directory.
ConfigResult ParseConfig(std::string_view yaml, const std::string& file_name);

// What `reattest run` uses without --config: trust domain example.org, the
// unix attestor, default socket and data dir, and entries from
// DATA_DIR/embedded-entries.yaml, which the caller writes before starting.
Config EmbeddedDefaultConfig();

// Dotted names of the keys that differ between two configs and that a SIGHUP
// reload cannot apply: everything but `reattestation.*` and `log.level` (the
// entries themselves live in their own file). An attestor switched on or off
// is reported as `attestors.NAME`.
std::vector<std::string> KeysNeedingRestart(const Config& before, const Config& after);

}  // namespace reattest::supervisor
