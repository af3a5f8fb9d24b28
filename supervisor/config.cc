#include "supervisor/config.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <set>
#include <span>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/spiffe_id.h"
#include "common/strings.h"
#include "supervisor/defaults.h"
#include "yaml-cpp/yaml.h"

namespace reattest::supervisor {
namespace {

using KeyList = std::span<const std::string_view>;

// The keys of each mapping, as SPEC section 6 lists them.
constexpr std::string_view kTopKeys[] = {
    "trust_domain", "socket_path", "socket_mode", "data_dir",      "proc_root", "log", "metrics",
    "health",       "limits",      "attestors",   "reattestation", "identity",  "sds",
};
constexpr std::string_view kLogKeys[] = {"level", "format"};
constexpr std::string_view kListenerKeys[] = {"listen"};
constexpr std::string_view kLimitsKeys[] = {"max_connections_per_uid",
                                            "max_streams_per_connection"};
constexpr std::string_view kAttestorsKeys[] = {"unix", "docker", "k8s"};
constexpr std::string_view kUnixKeys[] = {"discover_workload_path", "workload_size_limit"};
constexpr std::string_view kDockerKeys[] = {"socket_path", "timeout", "not_found_grace"};
constexpr std::string_view kK8sKeys[] = {
    "kubelet_url",
    "token_path",
    "ca_path",
    "skip_kubelet_verification",
    "node_name_env",
    "timeout",
    "kubelet_min_interval",
    "not_found_grace",
};
constexpr std::string_view kReattestationKeys[] = {
    "initial_backoff", "max_backoff",       "multiplier",   "jitter",
    "max_attempts",    "periodic_interval", "hold_timeout",
};
constexpr std::string_view kIdentityKeys[] = {"source", "local"};
constexpr std::string_view kLocalKeys[] = {
    "entries_file", "x509_ttl", "jwt_ttl", "jwt_key_ttl",
    "ca_ttl",       "ca_cert",  "ca_key",  "federated_bundles",
};
constexpr std::string_view kSdsKeys[] = {
    "default_svid_name",
    "default_bundle_name",
    "default_all_bundles_name",
    "disable_spiffe_cert_validation",
};

// sun_path holds 108 bytes, the terminating NUL included.
constexpr size_t kMaxSocketPath = 107;

std::string Message(const absl::Status& status) { return Concat(status.message()); }

std::string_view KindOf(const YAML::Node& node) {
  if (node.IsMap()) {
    return "a map";
  }
  return node.IsSequence() ? "a list" : "a single value";
}

// Parsers of one scalar each: the text in, the value or the message out.

absl::StatusOr<std::string> ParseNonEmpty(std::string_view text) {
  if (text.empty()) {
    return absl::InvalidArgumentError("must not be empty");
  }
  return std::string(text);
}

absl::StatusOr<bool> ParseBool(std::string_view text) {
  if (text == "true" || text == "false") {
    return text == "true";
  }
  return absl::InvalidArgumentError(Concat("expected true or false, got \"", text, "\""));
}

absl::StatusOr<int> ParseInt(std::string_view text) {
  int value = 0;
  if (!ParseInteger(text, value)) {
    return absl::InvalidArgumentError(Concat("expected an integer, got \"", text, "\""));
  }
  return value;
}

absl::StatusOr<double> ParseDouble(std::string_view text) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
      !std::isfinite(value)) {
    return absl::InvalidArgumentError(Concat("expected a number, got \"", text, "\""));
  }
  return value;
}

// YAML 1.1 reads an unquoted 0666 as 438, hence a string in the spec; yaml-cpp
// hands us the text either way, so both spellings mean the same octal mode.
absl::StatusOr<uint32_t> ParseMode(std::string_view text) {
  uint32_t mode = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), mode, 8);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || mode > 0777) {
    return absl::InvalidArgumentError(
        Concat("expected an octal mode up to \"0777\" such as \"0666\", got \"", text, "\""));
  }
  return mode;
}

// host:port with a numeric port; an IPv6 host goes in brackets.
absl::StatusOr<std::string> ParseListen(std::string_view text) {
  size_t colon = text.rfind(':');
  uint16_t port = 0;
  bool ok =
      colon != std::string_view::npos && colon > 0 && ParseInteger(text.substr(colon + 1), port);
  std::string_view host = ok ? text.substr(0, colon) : "";
  bool bracketed = host.starts_with('[') && host.ends_with(']');
  if (!ok || (!bracketed && host.find(':') != std::string_view::npos)) {
    return absl::InvalidArgumentError(
        Concat("expected host:port such as 127.0.0.1:9988, got \"", text, "\""));
  }
  return std::string(text);
}

absl::StatusOr<std::string> ParseTrustDomain(std::string_view text) {
  if (absl::Status status = ValidateTrustDomain(text); !status.ok()) {
    return status;
  }
  return std::string(text);
}

absl::StatusOr<std::string> ParseSource(std::string_view text) {
  if (text != "local") {
    return absl::InvalidArgumentError(
        Concat("source \"", text, "\" is not available in this release: use local"));
  }
  return std::string(text);
}

absl::StatusOr<std::string> ParseKubeletUrl(std::string_view text) {
  if (!text.starts_with("https://") && !text.starts_with("http://")) {
    return absl::InvalidArgumentError(
        Concat("expected an http:// or https:// URL, got \"", text, "\""));
  }
  return std::string(text);
}

// Only stats: the loader must not open anything but the config file itself.
absl::Status CheckFile(const std::string& path) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return absl::NotFoundError(Concat("file not found: ", path));
    }
    return absl::PermissionDeniedError(Concat("cannot access ", path, ": ", std::strerror(errno)));
  }
  if (S_ISDIR(info.st_mode)) {
    return absl::InvalidArgumentError(Concat("is a directory, not a file: ", path));
  }
  return absl::OkStatus();
}

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (file == nullptr) {
    return absl::NotFoundError(std::strerror(errno));
  }
  std::string text;
  char buffer[4096];
  while (size_t read = std::fread(buffer, 1, sizeof(buffer), file.get())) {
    text.append(buffer, read);
  }
  if (std::ferror(file.get())) {
    return absl::DataLossError(std::strerror(errno));
  }
  return text;
}

// What one load collects: the errors with their lines.
class Parser {
 public:
  Parser(std::string file_name, std::filesystem::path dir)
      : file_name_(std::move(file_name)), dir_(std::move(dir)) {}

  // An empty `key` leaves the key out: `FILE:LINE: message`.
  void Error(const YAML::Mark& mark, std::string_view key, std::string_view message) {
    int line = std::max(mark.line, 0) + 1;
    std::string where = Concat(file_name_, ":", line, ": ");
    errors_.emplace_back(line,
                         key.empty() ? Concat(where, message) : Concat(where, key, ": ", message));
  }

  // Relative paths are relative to the config file, not to the working directory.
  std::string Resolve(std::string_view path) const {
    std::filesystem::path resolved(path);
    return resolved.is_absolute() ? resolved.string()
                                  : (dir_ / resolved).lexically_normal().string();
  }

  ConfigResult Finish(Config config) {
    ConfigResult result;
    if (errors_.empty()) {
      result.config = std::move(config);
      return result;
    }
    // Sections are parsed in a fixed order; the reader wants the file's order.
    std::stable_sort(errors_.begin(), errors_.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [line, error] : errors_) {
      result.errors.push_back(std::move(error));
    }
    return result;
  }

 private:
  std::string file_name_;
  std::filesystem::path dir_;
  std::vector<std::pair<int, std::string>> errors_;
};

// One mapping of the file, such as `reattestation`, with typed getters. A
// getter leaves `out` alone when the key is absent or null (the default
// stays) and returns false; it records an error and returns false when the
// value is invalid; it returns true when it stored a value.
class Section {
 public:
  // The document itself.
  Section(Parser& parser, const YAML::Node& root, KeyList keys)
      : parser_(parser), mark_(YAML::Mark()) {
    Load(root, keys);
  }

  // A nested mapping; absent or null, it is empty and every key keeps its default.
  Section Child(std::string_view key, KeyList keys) const {
    const Entry* entry = Find(key);
    Section child(parser_, Dotted(key), entry != nullptr ? entry->mark : mark_, false);
    if (entry != nullptr) {
      child.Load(entry->value, keys);
    }
    return child;
  }

  // A nested mapping whose keys are data (trust domain IDs), not settings.
  // Errors about its entries name the entry in the message, since such keys
  // may contain dots.
  Section FreeMap(std::string_view key) const {
    const Entry* entry = Find(key);
    Section child(parser_, Dotted(key), entry != nullptr ? entry->mark : mark_, true);
    if (entry != nullptr) {
      child.Load(entry->value, {});
    }
    return child;
  }

  // Whether the file writes `key`, even as null.
  bool Has(std::string_view key) const { return Find(key) != nullptr; }

  // Whether the file gives `key` a value other than null.
  bool Sets(std::string_view key) const {
    const Entry* entry = Find(key);
    return entry != nullptr && !entry->value.IsNull();
  }

  std::vector<std::string> Keys() const {
    std::vector<std::string> keys;
    for (const Entry& entry : entries_) {
      keys.push_back(entry.key);
    }
    return keys;
  }

  template <typename T, typename Parse>
  bool Value(std::string_view key, T& out, Parse parse) const {
    const std::string* text = Text(key);
    if (text == nullptr) {
      return false;
    }
    auto parsed = parse(std::string_view(*text));
    if (!parsed.ok()) {
      Error(key, Message(parsed.status()));
      return false;
    }
    out = *std::move(parsed);
    return true;
  }

  bool String(std::string_view key, std::string& out) const {
    return Value(key, out, ParseNonEmpty);
  }
  bool Bool(std::string_view key, bool& out) const { return Value(key, out, ParseBool); }
  bool Duration(std::string_view key, reattest::Duration& out) const {
    return Value(key, out, ParseDuration);
  }
  bool Size(std::string_view key, uint64_t& out) const { return Value(key, out, ParseSize); }
  bool Int(std::string_view key, int& out) const { return Value(key, out, ParseInt); }
  bool Double(std::string_view key, double& out) const { return Value(key, out, ParseDouble); }

  // A string naming a file or directory, made absolute.
  bool Path(std::string_view key, std::string& out) const {
    if (!String(key, out)) {
      return false;
    }
    out = parser_.Resolve(out);
    return true;
  }

  void Require(std::string_view key) const {
    const Entry* entry = Find(key);
    if (entry == nullptr) {
      Error(key, "required key is missing");
    } else if (entry->value.IsNull()) {
      Error(key, "required key has no value");
    }
  }

  void RequireFile(std::string_view key, const std::string& path) const {
    if (absl::Status status = CheckFile(path); !status.ok()) {
      Error(key, Message(status));
    }
  }

  // At the line of `key`, or of this section when the file does not set it.
  void Error(std::string_view key, std::string_view message) const {
    const Entry* entry = Find(key);
    ErrorAt(entry != nullptr ? entry->mark : mark_, key, message);
  }

 private:
  struct Entry {
    std::string key;
    YAML::Mark mark;
    YAML::Node value;
  };

  Section(Parser& parser, std::string path, YAML::Mark mark, bool free)
      : parser_(parser), path_(std::move(path)), mark_(mark), free_(free) {}

  void Load(const YAML::Node& node, KeyList keys) {
    if (!node.IsMap()) {
      if (!node.IsNull()) {
        parser_.Error(mark_, path_, Concat("expected a map, got ", KindOf(node)));
      }
      return;
    }
    for (const auto& item : node) {
      Entry entry{item.first.IsScalar() ? item.first.Scalar() : "?", item.first.Mark(),
                  item.second};
      if (!free_ && std::find(keys.begin(), keys.end(), entry.key) == keys.end()) {
        ErrorAt(entry.mark, entry.key, "unknown key");
      } else if (Has(entry.key)) {
        ErrorAt(entry.mark, entry.key, "duplicate key");
      } else {
        entries_.push_back(std::move(entry));
      }
    }
  }

  // The scalar text of `key`; nullptr when absent or null, or (with an
  // error) when the value is a map or a list.
  const std::string* Text(std::string_view key) const {
    const Entry* entry = Find(key);
    if (entry == nullptr || entry->value.IsNull()) {
      return nullptr;
    }
    if (!entry->value.IsScalar()) {
      Error(key, Concat("expected a single value, got ", KindOf(entry->value)));
      return nullptr;
    }
    return &entry->value.Scalar();
  }

  const Entry* Find(std::string_view key) const {
    for (const Entry& entry : entries_) {
      if (entry.key == key) {
        return &entry;
      }
    }
    return nullptr;
  }

  std::string Dotted(std::string_view key) const {
    return path_.empty() ? std::string(key) : Concat(path_, ".", key);
  }

  void ErrorAt(const YAML::Mark& mark, std::string_view key, std::string_view message) const {
    if (free_) {
      parser_.Error(mark, path_, Concat(key, ": ", message));
    } else {
      parser_.Error(mark, Dotted(key), message);
    }
  }

  Parser& parser_;
  std::string path_;
  YAML::Mark mark_;
  bool free_ = false;
  std::vector<Entry> entries_;
};

void ParsePositive(const Section& section, std::string_view key, int& out) {
  if (section.Int(key, out) && out < 1) {
    section.Error(key, "must be at least 1");
  }
}

void ParsePositive(const Section& section, std::string_view key, Duration& out) {
  if (section.Duration(key, out) && out <= Duration::zero()) {
    section.Error(key, "must be greater than 0");
  }
}

void ParseTop(const Section& top, Config& config) {
  top.Require("trust_domain");
  top.Value("trust_domain", config.trust_domain, ParseTrustDomain);
  if (top.Path("socket_path", config.socket_path) && config.socket_path.size() > kMaxSocketPath) {
    top.Error("socket_path",
              Concat("longer than ", kMaxSocketPath, " bytes, the limit of a Unix socket address"));
  }
  top.Value("socket_mode", config.socket_mode, ParseMode);
  top.Path("data_dir", config.data_dir);
  top.Path("proc_root", config.proc_root);
}

void ParseLog(const Section& section, Config& config) {
  section.Value("level", config.log_level, log::ParseLevel);
  section.Value("format", config.log_format, log::ParseFormat);
}

void ParseListener(const Section& section, std::optional<std::string>& out) {
  std::string listen;
  if (section.Value("listen", listen, ParseListen)) {
    out = std::move(listen);
  }
}

void ParseLimits(const Section& section, LimitsConfig& out) {
  ParsePositive(section, "max_connections_per_uid", out.max_connections_per_uid);
  ParsePositive(section, "max_streams_per_connection", out.max_streams_per_connection);
}

void ParseUnix(const Section& section, attestors::UnixOptions& out) {
  section.Bool("discover_workload_path", out.discover_workload_path);
  section.Size("workload_size_limit", out.workload_size_limit);
}

void ParseDocker(const Section& section, attestors::DockerOptions& out) {
  section.Path("socket_path", out.socket_path);
  ParsePositive(section, "timeout", out.timeout);
  section.Duration("not_found_grace", out.not_found_grace);
}

void CheckK8sFiles(const Section& section, const attestors::K8sOptions& options) {
  // The read-only http:// port takes neither a token nor a CA.
  if (!options.kubelet_url.starts_with("https://")) {
    return;
  }
  section.RequireFile("token_path", options.token_path);
  if (!options.skip_kubelet_verification) {
    section.RequireFile("ca_path", options.ca_path);
  }
}

void ParseK8s(const Section& section, attestors::K8sOptions& out) {
  // An invalid URL leaves the https default in place; its files would only add noise.
  bool url_valid = section.Value("kubelet_url", out.kubelet_url, ParseKubeletUrl) ||
                   !section.Sets("kubelet_url");
  section.Path("token_path", out.token_path);
  section.Path("ca_path", out.ca_path);
  section.Bool("skip_kubelet_verification", out.skip_kubelet_verification);
  section.String("node_name_env", out.node_name_env);
  ParsePositive(section, "timeout", out.timeout);
  section.Duration("kubelet_min_interval", out.kubelet_min_interval);
  section.Duration("not_found_grace", out.not_found_grace);
  if (url_valid) {
    CheckK8sFiles(section, out);
  }
}

void ParseAttestors(const Section& section, attestors::AttestorsOptions& out) {
  if (section.Has("unix")) {
    ParseUnix(section.Child("unix", kUnixKeys), out.unix_attestor.emplace());
  }
  if (section.Has("docker")) {
    ParseDocker(section.Child("docker", kDockerKeys), out.docker.emplace());
  }
  if (section.Has("k8s")) {
    ParseK8s(section.Child("k8s", kK8sKeys), out.k8s.emplace());
  }
}

void ParseBackoff(const Section& section, ReattestationConfig& out) {
  ParsePositive(section, "initial_backoff", out.initial_backoff);
  section.Duration("max_backoff", out.max_backoff);
  if (section.Double("multiplier", out.multiplier) && out.multiplier < 1) {
    section.Error("multiplier", "must be at least 1");
  }
  if (section.Double("jitter", out.jitter) && (out.jitter < 0 || out.jitter >= 1)) {
    section.Error("jitter", "must be at least 0 and below 1");
  }
  if (out.max_backoff < out.initial_backoff) {
    // Blame a key the file sets: the other one may be a default.
    std::string_view key = section.Has("max_backoff") ? "max_backoff" : "initial_backoff";
    section.Error(key,
                  Concat("max_backoff (", FormatDuration(out.max_backoff),
                         ") is below initial_backoff (", FormatDuration(out.initial_backoff), ")"));
  }
}

void ParseRetries(const Section& section, ReattestationConfig& out) {
  if (section.Int("max_attempts", out.max_attempts) && out.max_attempts < 0) {
    section.Error("max_attempts", "must not be negative (0 means unlimited)");
  }
  section.Duration("periodic_interval", out.periodic_interval);
  section.Duration("hold_timeout", out.hold_timeout);
  // Once its retries run out, only the periodic pass would attest a workload again.
  if (out.max_attempts > 0 && out.periodic_interval == Duration::zero()) {
    section.Error("max_attempts",
                  "needs periodic_interval above 0: a workload out of retries would stay degraded");
  }
}

void ParseReattestation(const Section& section, ReattestationConfig& out) {
  ParseBackoff(section, out);
  ParseRetries(section, out);
}

void ParseOptionalFile(const Section& section, std::string_view key,
                       std::optional<std::string>& out) {
  std::string path;
  if (section.Path(key, path)) {
    section.RequireFile(key, path);
    out = std::move(path);
  }
}

void ParseCaFiles(const Section& section, identity::LocalOptions& out) {
  ParseOptionalFile(section, "ca_cert", out.ca_cert);
  ParseOptionalFile(section, "ca_key", out.ca_key);
  if (out.ca_cert.has_value() != out.ca_key.has_value()) {
    section.Error(out.ca_cert.has_value() ? "ca_cert" : "ca_key",
                  "ca_cert and ca_key go together: set both, or neither to keep the CA in "
                  "data_dir");
  }
}

void ParseFederatedBundles(const Section& section, std::map<std::string, std::string>& out) {
  for (const std::string& domain : section.Keys()) {
    absl::StatusOr<SpiffeId> id = SpiffeId::Parse(domain);
    if (!id.ok() || !id->path().empty()) {
      section.Error(domain, "expected a trust domain ID such as spiffe://partner.org");
    }
    section.Require(domain);
    std::string path;
    if (section.Path(domain, path)) {
      section.RequireFile(domain, path);
      out[domain] = std::move(path);
    }
  }
}

void ParseLocal(const Section& section, identity::LocalOptions& out) {
  section.Path("entries_file", out.entries_file);
  section.RequireFile("entries_file", out.entries_file);
  ParsePositive(section, "x509_ttl", out.x509_ttl);
  ParsePositive(section, "jwt_ttl", out.jwt_ttl);
  ParsePositive(section, "jwt_key_ttl", out.jwt_key_ttl);
  ParsePositive(section, "ca_ttl", out.ca_ttl);
  ParseCaFiles(section, out);
  ParseFederatedBundles(section.FreeMap("federated_bundles"), out.federated_bundles);
}

void ParseIdentity(const Section& section, Config& config) {
  section.Value("source", config.identity_source, ParseSource);
  ParseLocal(section.Child("local", kLocalKeys), config.local);
}

void ParseSds(const Section& section, SdsConfig& out) {
  section.String("default_svid_name", out.default_svid_name);
  section.String("default_bundle_name", out.default_bundle_name);
  section.String("default_all_bundles_name", out.default_all_bundles_name);
  section.Bool("disable_spiffe_cert_validation", out.disable_spiffe_cert_validation);
}

void ParseDocument(Parser& parser, const YAML::Node& root, Config& config) {
  Section top(parser, root, kTopKeys);
  ParseTop(top, config);
  ParseLog(top.Child("log", kLogKeys), config);
  ParseListener(top.Child("metrics", kListenerKeys), config.metrics_listen);
  ParseListener(top.Child("health", kListenerKeys), config.health_listen);
  ParseLimits(top.Child("limits", kLimitsKeys), config.limits);
  ParseAttestors(top.Child("attestors", kAttestorsKeys), config.attestors);
  ParseReattestation(top.Child("reattestation", kReattestationKeys), config.reattestation);
  ParseIdentity(top.Child("identity", kIdentityKeys), config);
  ParseSds(top.Child("sds", kSdsKeys), config.sds);
}

// What a file that sets nothing but trust_domain means.
Config DefaultConfig() {
  Config config;
  config.socket_path = DefaultSocketPath();
  config.data_dir = DefaultDataDir();
  return config;
}

// Collects the dotted names of settings that differ between two configs.
class Differ {
 public:
  template <typename T>
  void Compare(std::string_view key, const T& before, const T& after) {
    if (!(before == after)) {
      keys_.emplace_back(key);
    }
  }

  // Reports an attestor switched on or off, or compares its options with `diff`.
  template <typename Options, typename Diff>
  void CompareAttestor(std::string_view name, const std::optional<Options>& before,
                       const std::optional<Options>& after, Diff diff) {
    if (before.has_value() != after.has_value()) {
      keys_.push_back(Concat("attestors.", name));
    } else if (before.has_value()) {
      diff(*this, *before, *after);
    }
  }

  std::vector<std::string> Take() { return std::move(keys_); }

 private:
  std::vector<std::string> keys_;
};

void DiffTop(Differ& differ, const Config& before, const Config& after) {
  differ.Compare("trust_domain", before.trust_domain, after.trust_domain);
  differ.Compare("socket_path", before.socket_path, after.socket_path);
  differ.Compare("socket_mode", before.socket_mode, after.socket_mode);
  differ.Compare("data_dir", before.data_dir, after.data_dir);
  differ.Compare("proc_root", before.proc_root, after.proc_root);
  differ.Compare("log.format", before.log_format, after.log_format);
  differ.Compare("metrics.listen", before.metrics_listen, after.metrics_listen);
  differ.Compare("health.listen", before.health_listen, after.health_listen);
  differ.Compare("limits.max_connections_per_uid", before.limits.max_connections_per_uid,
                 after.limits.max_connections_per_uid);
  differ.Compare("limits.max_streams_per_connection", before.limits.max_streams_per_connection,
                 after.limits.max_streams_per_connection);
}

void DiffUnix(Differ& differ, const attestors::UnixOptions& before,
              const attestors::UnixOptions& after) {
  differ.Compare("attestors.unix.discover_workload_path", before.discover_workload_path,
                 after.discover_workload_path);
  differ.Compare("attestors.unix.workload_size_limit", before.workload_size_limit,
                 after.workload_size_limit);
}

void DiffDocker(Differ& differ, const attestors::DockerOptions& before,
                const attestors::DockerOptions& after) {
  differ.Compare("attestors.docker.socket_path", before.socket_path, after.socket_path);
  differ.Compare("attestors.docker.timeout", before.timeout, after.timeout);
  differ.Compare("attestors.docker.not_found_grace", before.not_found_grace, after.not_found_grace);
}

void DiffK8s(Differ& differ, const attestors::K8sOptions& before,
             const attestors::K8sOptions& after) {
  differ.Compare("attestors.k8s.kubelet_url", before.kubelet_url, after.kubelet_url);
  differ.Compare("attestors.k8s.token_path", before.token_path, after.token_path);
  differ.Compare("attestors.k8s.ca_path", before.ca_path, after.ca_path);
  differ.Compare("attestors.k8s.skip_kubelet_verification", before.skip_kubelet_verification,
                 after.skip_kubelet_verification);
  differ.Compare("attestors.k8s.node_name_env", before.node_name_env, after.node_name_env);
  differ.Compare("attestors.k8s.timeout", before.timeout, after.timeout);
  differ.Compare("attestors.k8s.kubelet_min_interval", before.kubelet_min_interval,
                 after.kubelet_min_interval);
  differ.Compare("attestors.k8s.not_found_grace", before.not_found_grace, after.not_found_grace);
}

void DiffAttestors(Differ& differ, const attestors::AttestorsOptions& before,
                   const attestors::AttestorsOptions& after) {
  differ.CompareAttestor("unix", before.unix_attestor, after.unix_attestor, DiffUnix);
  differ.CompareAttestor("docker", before.docker, after.docker, DiffDocker);
  differ.CompareAttestor("k8s", before.k8s, after.k8s, DiffK8s);
}

// The entries file's contents reload on their own; moving it to another path
// needs a new watch, which only start-up sets.
void DiffIdentity(Differ& differ, const Config& before, const Config& after) {
  const identity::LocalOptions& a = before.local;
  const identity::LocalOptions& b = after.local;
  differ.Compare("identity.source", before.identity_source, after.identity_source);
  differ.Compare("identity.local.entries_file", a.entries_file, b.entries_file);
  differ.Compare("identity.local.x509_ttl", a.x509_ttl, b.x509_ttl);
  differ.Compare("identity.local.jwt_ttl", a.jwt_ttl, b.jwt_ttl);
  differ.Compare("identity.local.jwt_key_ttl", a.jwt_key_ttl, b.jwt_key_ttl);
  differ.Compare("identity.local.ca_ttl", a.ca_ttl, b.ca_ttl);
  differ.Compare("identity.local.ca_cert", a.ca_cert, b.ca_cert);
  differ.Compare("identity.local.ca_key", a.ca_key, b.ca_key);
  differ.Compare("identity.local.federated_bundles", a.federated_bundles, b.federated_bundles);
}

void DiffSds(Differ& differ, const SdsConfig& before, const SdsConfig& after) {
  differ.Compare("sds.default_svid_name", before.default_svid_name, after.default_svid_name);
  differ.Compare("sds.default_bundle_name", before.default_bundle_name, after.default_bundle_name);
  differ.Compare("sds.default_all_bundles_name", before.default_all_bundles_name,
                 after.default_all_bundles_name);
  differ.Compare("sds.disable_spiffe_cert_validation", before.disable_spiffe_cert_validation,
                 after.disable_spiffe_cert_validation);
}

}  // namespace

ConfigResult LoadConfigFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) {
    ConfigResult result;
    result.errors.push_back(Concat(path, ": cannot read: ", text.status().message()));
    return result;
  }
  return ParseConfig(*text, path);
}

ConfigResult ParseConfig(std::string_view yaml, const std::string& file_name) {
  std::error_code ignored;
  std::filesystem::path file = std::filesystem::absolute(file_name, ignored).lexically_normal();
  Parser parser(file_name, file.parent_path());
  Config config = DefaultConfig();
  config.file = file.string();
  config.local.entries_file = parser.Resolve("entries.yaml");
  try {
    ParseDocument(parser, YAML::Load(std::string(yaml)), config);
  } catch (const YAML::Exception& e) {
    parser.Error(e.mark, "", Concat("invalid YAML: ", e.msg));
  }
  return parser.Finish(std::move(config));
}

Config EmbeddedDefaultConfig() {
  Config config = DefaultConfig();
  config.trust_domain = "example.org";
  config.attestors.unix_attestor.emplace();
  config.local.entries_file = Concat(config.data_dir, "/embedded-entries.yaml");
  return config;
}

std::vector<std::string> KeysNeedingRestart(const Config& before, const Config& after) {
  Differ differ;
  DiffTop(differ, before, after);
  DiffAttestors(differ, before.attestors, after.attestors);
  DiffIdentity(differ, before, after);
  DiffSds(differ, before.sds, after.sds);
  return differ.Take();
}

}  // namespace reattest::supervisor
