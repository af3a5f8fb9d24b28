#include "supervisor/config.h"

#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

#include "common/strings.h"
#include "supervisor/defaults.h"

namespace reattest::supervisor {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// SPEC section 6, verbatim: every value in it is the default.
constexpr std::string_view kSpecExample = R"(
trust_domain: example.org               # required
socket_path: /run/reattest/api.sock
socket_mode: "0666"                     # a string, octal
data_dir: /var/lib/reattest
proc_root: /proc
log: {level: info, format: json}        # level: debug|info|warn|error; format: text|json
metrics: {listen: 127.0.0.1:9988}       # off when absent; GET /metrics
health: {listen: 127.0.0.1:9989}        # off when absent; /healthz /readyz /debug/workloads
limits: {max_connections_per_uid: 256, max_streams_per_connection: 100}
attestors:                              # an attestor is enabled by being present
  unix: {discover_workload_path: false, workload_size_limit: 128MiB}
  docker: {socket_path: /var/run/docker.sock, timeout: 2s, not_found_grace: 30s}
  k8s:
    kubelet_url: https://127.0.0.1:10250  # http:// = read-only port, no token
    token_path: /var/run/secrets/kubernetes.io/serviceaccount/token
    ca_path: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt
    skip_kubelet_verification: false
    node_name_env: MY_NODE_NAME
    timeout: 2s
    kubelet_min_interval: 500ms
    not_found_grace: 2m
reattestation:
  initial_backoff: 500ms
  max_backoff: 30s
  multiplier: 2.0
  jitter: 0.2
  max_attempts: 0          # retries after the first failure; 0 = unlimited
  periodic_interval: 5m    # 0 = off
  hold_timeout: 30s
identity:
  source: local
  local:
    entries_file: entries.yaml
    x509_ttl: 1h
    jwt_ttl: 5m
    jwt_key_ttl: 24h
    ca_ttl: 8760h
    ca_cert: null
    ca_key: null
    federated_bundles: {}   # spiffe://partner.org: /path/bundle.pem
sds: {default_svid_name: default, default_bundle_name: ROOTCA,
      default_all_bundles_name: ALL, disable_spiffe_cert_validation: false}
)";

// A fresh directory under /tmp, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/reattest-config-XXXXXX";
    const char* made = mkdtemp(pattern);
    REQUIRE(made != nullptr);
    path_ = made;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

  // Writes `text` to `name` under the directory; returns the full path.
  std::string Write(std::string_view name, std::string_view text) const {
    std::filesystem::path file = std::filesystem::path(path_) / name;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file) << text;
    return file.string();
  }

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Loads `yaml` as DIR/reattest.yaml next to an (empty) DIR/entries.yaml.
ConfigResult LoadWithEntries(const TempDir& dir, std::string_view yaml) {
  dir.Write("entries.yaml", "entries: []\n");
  return LoadConfigFile(dir.Write("reattest.yaml", yaml));
}

std::string ReplaceAll(std::string text, std::string_view from, std::string_view to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at)) {
    text.replace(at, from.size(), to);
    at += to.size();
  }
  return text;
}

// Sets an environment variable for one test and restores it afterwards.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = getenv(name)) {
      old_ = old;
    }
    Set(value);
  }
  ~ScopedEnv() { Set(old_); }

 private:
  void Set(const std::optional<std::string>& value) {
    if (value.has_value()) {
      setenv(name_, value->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

  const char* name_;
  std::optional<std::string> old_;
};

TEST_CASE("The SPEC example parses to the defaults", "[config]") {
  TempDir dir;
  // The k8s attestor needs its token and CA to exist; point them into the temp dir.
  std::string yaml = ReplaceAll(std::string(kSpecExample),
                                "/var/run/secrets/kubernetes.io/serviceaccount", dir.path());
  dir.Write("token", "t");
  dir.Write("ca.crt", "c");

  ConfigResult result = LoadWithEntries(dir, yaml);

  INFO(Join(result.errors, "\n"));
  REQUIRE(result.config.has_value());
  const Config& config = *result.config;
  CHECK(config.file == dir.path() + "/reattest.yaml");
  CHECK(config.trust_domain == "example.org");
  CHECK(config.socket_path == "/run/reattest/api.sock");
  CHECK(config.socket_mode == 0666);
  CHECK(config.data_dir == "/var/lib/reattest");
  CHECK(config.proc_root == "/proc");
  CHECK(config.log_level == log::Level::kInfo);
  CHECK(config.log_format == log::Format::kJson);
  CHECK(config.metrics_listen == "127.0.0.1:9988");
  CHECK(config.health_listen == "127.0.0.1:9989");
  CHECK(config.limits.max_connections_per_uid == LimitsConfig{}.max_connections_per_uid);
  CHECK(config.limits.max_streams_per_connection == LimitsConfig{}.max_streams_per_connection);

  REQUIRE(config.attestors.unix_attestor.has_value());
  CHECK(config.attestors.unix_attestor->workload_size_limit == 128ULL << 20);
  REQUIRE(config.attestors.docker.has_value());
  CHECK(config.attestors.docker->timeout == attestors::DockerOptions{}.timeout);
  CHECK(config.attestors.docker->not_found_grace == attestors::DockerOptions{}.not_found_grace);
  REQUIRE(config.attestors.k8s.has_value());
  CHECK(config.attestors.k8s->kubelet_url == attestors::K8sOptions{}.kubelet_url);
  CHECK(config.attestors.k8s->kubelet_min_interval == milliseconds(500));
  CHECK(config.attestors.k8s->not_found_grace == attestors::K8sOptions{}.not_found_grace);

  const ReattestationConfig defaults;
  CHECK(config.reattestation.initial_backoff == defaults.initial_backoff);
  CHECK(config.reattestation.max_backoff == defaults.max_backoff);
  CHECK(config.reattestation.multiplier == defaults.multiplier);
  CHECK(config.reattestation.jitter == defaults.jitter);
  CHECK(config.reattestation.max_attempts == defaults.max_attempts);
  CHECK(config.reattestation.periodic_interval == defaults.periodic_interval);
  CHECK(config.reattestation.hold_timeout == defaults.hold_timeout);

  CHECK(config.identity_source == "local");
  CHECK(config.local.entries_file == dir.path() + "/entries.yaml");
  CHECK(config.local.ca_ttl == identity::LocalOptions{}.ca_ttl);
  CHECK_FALSE(config.local.ca_cert.has_value());
  CHECK(config.local.federated_bundles.empty());
  CHECK(config.sds.default_bundle_name == "ROOTCA");
  CHECK_FALSE(config.sds.disable_spiffe_cert_validation);
}

TEST_CASE("A file with only trust_domain gets the built-in defaults", "[config]") {
  TempDir dir;
  ConfigResult result = LoadWithEntries(dir, "trust_domain: example.org\n");

  REQUIRE(result.config.has_value());
  CHECK(result.config->socket_path == DefaultSocketPath());
  CHECK(result.config->data_dir == DefaultDataDir());
  CHECK_FALSE(result.config->attestors.unix_attestor.has_value());
  CHECK_FALSE(result.config->metrics_listen.has_value());
}

TEST_CASE("A null or empty attestor entry enables it with defaults", "[config]") {
  TempDir dir;
  std::string attestor;
  SECTION("null") { attestor = "  unix:\n"; }
  SECTION("empty map") { attestor = "  unix: {}\n"; }

  ConfigResult result =
      LoadWithEntries(dir, Concat("trust_domain: example.org\nattestors:\n", attestor));

  REQUIRE(result.config.has_value());
  REQUIRE(result.config->attestors.unix_attestor.has_value());
  CHECK_FALSE(result.config->attestors.unix_attestor->discover_workload_path);
  CHECK_FALSE(result.config->attestors.docker.has_value());
}

TEST_CASE("An unknown key is reported with file, line and dotted key", "[config]") {
  TempDir dir;
  ConfigResult result = LoadWithEntries(dir,
                                        "trust_domain: example.org\n"
                                        "attestors:\n"
                                        "  unix:\n"
                                        "    discover_path: true\n");

  CHECK_FALSE(result.config.has_value());
  REQUIRE(result.errors.size() == 1);
  CHECK(result.errors[0] ==
        dir.path() + "/reattest.yaml:4: attestors.unix.discover_path: unknown key");
}

TEST_CASE("A bad duration is reported with its key and line", "[config]") {
  TempDir dir;
  ConfigResult result = LoadWithEntries(dir,
                                        "trust_domain: example.org\n"
                                        "reattestation:\n"
                                        "  initial_backoff: fast\n");

  REQUIRE(result.errors.size() == 1);
  CHECK(result.errors[0] == dir.path() +
                                "/reattest.yaml:3: reattestation.initial_backoff: invalid "
                                "duration \"fast\": use Go syntax such as 300ms, 1.5s, 1m30s");
}

TEST_CASE("A missing entries file is reported under identity.local.entries_file", "[config]") {
  TempDir dir;
  std::string yaml = "trust_domain: example.org\n";
  std::string missing = dir.path() + "/entries.yaml";
  int line = 1;
  SECTION("the default next to the config") {}
  SECTION("named in the file") {
    yaml += "identity:\n  local:\n    entries_file: other.yaml\n";
    missing = dir.path() + "/other.yaml";
    line = 4;
  }

  ConfigResult result = LoadConfigFile(dir.Write("reattest.yaml", yaml));

  REQUIRE(result.errors.size() == 1);
  CHECK(result.errors[0] == Concat(dir.path(), "/reattest.yaml:", line,
                                   ": identity.local.entries_file: file not found: ", missing));
}

TEST_CASE("Every error in a file is reported, in file order", "[config]") {
  TempDir dir;
  ConfigResult result = LoadWithEntries(dir,
                                        "socket_mode: \"0999\"\n"
                                        "log: {level: loud}\n"
                                        "reattestation:\n"
                                        "  jitter: 1.5\n"
                                        "  multiplier: [2]\n"
                                        "bogus: 1\n");

  CHECK_FALSE(result.config.has_value());
  INFO(Join(result.errors, "\n"));
  REQUIRE(result.errors.size() == 6);
  std::string file = dir.path() + "/reattest.yaml:";
  CHECK(result.errors[0] == file + "1: trust_domain: required key is missing");
  CHECK(result.errors[1].starts_with(file + "1: socket_mode: expected an octal mode"));
  CHECK(result.errors[2].starts_with(file + "2: log.level: unknown level \"loud\""));
  CHECK(result.errors[3] == file + "4: reattestation.jitter: must be at least 0 and below 1");
  CHECK(result.errors[4] ==
        file + "5: reattestation.multiplier: expected a single value, got a list");
  CHECK(result.errors[5] == file + "6: bogus: unknown key");
}

TEST_CASE("max_attempts above 0 with periodic_interval 0 is rejected", "[config]") {
  TempDir dir;
  ConfigResult result = LoadWithEntries(dir,
                                        "trust_domain: example.org\n"
                                        "reattestation:\n"
                                        "  max_attempts: 5\n"
                                        "  periodic_interval: 0\n");

  REQUIRE(result.errors.size() == 1);
  CHECK(result.errors[0].starts_with(dir.path() +
                                     "/reattest.yaml:3: reattestation.max_attempts: needs "
                                     "periodic_interval above 0"));
}

TEST_CASE("Relative paths resolve against the config file's directory", "[config]") {
  TempDir dir;
  dir.Write("entries.yaml", "entries: []\n");
  dir.Write("sub/ca/ca.pem", "c");
  dir.Write("sub/ca/ca.key", "k");
  dir.Write("bundles/partner.pem", "b");
  std::string yaml =
      "trust_domain: example.org\n"
      "socket_path: run/api.sock\n"
      "data_dir: state\n"
      "identity:\n"
      "  local:\n"
      "    entries_file: ../entries.yaml\n"
      "    ca_cert: ca/ca.pem\n"
      "    ca_key: ca/ca.key\n"
      "    federated_bundles: {spiffe://partner.org: ../bundles/partner.pem}\n";

  // ParseConfig, not a file: the directory comes from the name alone.
  ConfigResult result = ParseConfig(yaml, dir.path() + "/sub/reattest.yaml");

  INFO(Join(result.errors, "\n"));
  REQUIRE(result.config.has_value());
  const Config& config = *result.config;
  CHECK(config.socket_path == dir.path() + "/sub/run/api.sock");
  CHECK(config.data_dir == dir.path() + "/sub/state");
  CHECK(config.local.entries_file == dir.path() + "/entries.yaml");
  CHECK(config.local.ca_cert == dir.path() + "/sub/ca/ca.pem");
  CHECK(config.local.ca_key == dir.path() + "/sub/ca/ca.key");
  CHECK(config.local.federated_bundles.at("spiffe://partner.org") ==
        dir.path() + "/bundles/partner.pem");
}

TEST_CASE("A CA certificate without its key is rejected", "[config]") {
  TempDir dir;
  dir.Write("ca.pem", "c");
  ConfigResult result = LoadWithEntries(dir,
                                        "trust_domain: example.org\n"
                                        "identity:\n"
                                        "  local: {ca_cert: ca.pem}\n");

  REQUIRE(result.errors.size() == 1);
  CHECK(result.errors[0].starts_with(dir.path() +
                                     "/reattest.yaml:3: identity.local.ca_cert: ca_cert and "
                                     "ca_key go together"));
}

TEST_CASE("Federated bundle keys must be trust domain IDs", "[config]") {
  TempDir dir;
  dir.Write("partner.pem", "b");
  ConfigResult result = LoadWithEntries(dir,
                                        "trust_domain: example.org\n"
                                        "identity:\n"
                                        "  local:\n"
                                        "    federated_bundles:\n"
                                        "      partner.org: partner.pem\n");

  REQUIRE(result.errors.size() == 1);
  CHECK(result.errors[0] == dir.path() +
                                "/reattest.yaml:5: identity.local.federated_bundles: partner.org: "
                                "expected a trust domain ID such as spiffe://partner.org");
}

TEST_CASE("Only the local identity source is accepted", "[config]") {
  TempDir dir;
  ConfigResult result =
      LoadWithEntries(dir, "trust_domain: example.org\nidentity: {source: spire}\n");

  REQUIRE(result.errors.size() == 1);
  CHECK(result.errors[0].starts_with(dir.path() +
                                     "/reattest.yaml:2: identity.source: source \"spire\""));
}

TEST_CASE("An https kubelet needs its token and CA files", "[config]") {
  TempDir dir;
  ConfigResult result = LoadWithEntries(dir,
                                        "trust_domain: example.org\n"
                                        "attestors:\n"
                                        "  k8s: {token_path: token, ca_path: ca.crt}\n");

  REQUIRE(result.errors.size() == 2);
  std::string prefix = dir.path() + "/reattest.yaml:3: attestors.k8s.";
  CHECK(result.errors[0] == prefix + "token_path: file not found: " + dir.path() + "/token");
  CHECK(result.errors[1] == prefix + "ca_path: file not found: " + dir.path() + "/ca.crt");
}

TEST_CASE("A plain http kubelet needs no token and no CA", "[config]") {
  TempDir dir;
  ConfigResult result = LoadWithEntries(dir,
                                        "trust_domain: example.org\n"
                                        "attestors:\n"
                                        "  k8s: {kubelet_url: \"http://127.0.0.1:10255\"}\n");

  INFO(Join(result.errors, "\n"));
  CHECK(result.config.has_value());
}

TEST_CASE("A kubelet_url that is not http or https is rejected", "[config]") {
  TempDir dir;
  ConfigResult result = LoadWithEntries(dir,
                                        "trust_domain: example.org\n"
                                        "attestors:\n"
                                        "  k8s: {kubelet_url: \"ftp://127.0.0.1\"}\n");

  REQUIRE(result.errors.size() == 1);
  CHECK(result.errors[0] == dir.path() +
                                "/reattest.yaml:3: attestors.k8s.kubelet_url: expected an http:// "
                                "or https:// URL, got \"ftp://127.0.0.1\"");
}

TEST_CASE("Malformed YAML is reported with its line", "[config]") {
  TempDir dir;
  ConfigResult result = LoadWithEntries(dir, "trust_domain: example.org\nlog: {level: info\n");

  REQUIRE(result.errors.size() == 1);
  CHECK(result.errors[0].starts_with(dir.path() + "/reattest.yaml:"));
  CHECK(result.errors[0].find(": invalid YAML: ") != std::string::npos);
}

TEST_CASE("An unreadable config file is reported without a line", "[config]") {
  TempDir dir;
  ConfigResult result = LoadConfigFile(dir.path() + "/absent.yaml");

  REQUIRE(result.errors.size() == 1);
  CHECK(result.errors[0] == dir.path() + "/absent.yaml: cannot read: No such file or directory");
}

TEST_CASE("A socket_path change needs a restart, a backoff change does not", "[config]") {
  Config before = EmbeddedDefaultConfig();
  Config after = before;
  after.socket_path = "/run/other.sock";
  after.reattestation.initial_backoff = seconds(1);
  after.log_level = log::Level::kDebug;

  CHECK(KeysNeedingRestart(before, after) == std::vector<std::string>{"socket_path"});
}

TEST_CASE("Switching an attestor on or off needs a restart", "[config]") {
  Config before = EmbeddedDefaultConfig();
  Config after = before;
  after.attestors.unix_attestor.reset();
  after.attestors.docker.emplace();

  CHECK(KeysNeedingRestart(before, after) ==
        std::vector<std::string>{"attestors.unix", "attestors.docker"});
}

TEST_CASE("The embedded default reads entries from the data dir", "[config]") {
  Config config = EmbeddedDefaultConfig();

  CHECK(config.file.empty());
  CHECK(config.trust_domain == "example.org");
  CHECK(config.attestors.unix_attestor.has_value());
  CHECK(config.local.entries_file == DefaultDataDir() + "/embedded-entries.yaml");
}

TEST_CASE("ClientSocketPath honours SPIFFE_ENDPOINT_SOCKET", "[defaults]") {
  SECTION("unix:// URI") {
    ScopedEnv env("SPIFFE_ENDPOINT_SOCKET", "unix:///run/spire/agent.sock");
    CHECK(ClientSocketPath() == "/run/spire/agent.sock");
  }
  SECTION("unix: URI") {
    ScopedEnv env("SPIFFE_ENDPOINT_SOCKET", "unix:/run/spire/agent.sock");
    CHECK(ClientSocketPath() == "/run/spire/agent.sock");
  }
  SECTION("plain path") {
    ScopedEnv env("SPIFFE_ENDPOINT_SOCKET", "/run/spire/agent.sock");
    CHECK(ClientSocketPath() == "/run/spire/agent.sock");
  }
  SECTION("unset") {
    ScopedEnv env("SPIFFE_ENDPOINT_SOCKET", std::nullopt);
    CHECK(ClientSocketPath() == DefaultSocketPath());
  }
}

}  // namespace
}  // namespace reattest::supervisor
