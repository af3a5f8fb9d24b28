// Checks of deploy/ (SPEC section 10): every manifest parses; the configs the
// Kubernetes manifests carry are ones the agent accepts and agree with the
// pods that run them; the dashboard and the alerts query only the metrics of
// SPEC section 8. CMake adds promtool and `reattest config check` runs.
#include <stdlib.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/strings.h"
#include "identity/entries_file.h"
#include "supervisor/config.h"
#include "tests/support/spec_metrics.h"
#include "tests/support/temp_dir.h"
#include "yaml-cpp/yaml.h"

namespace reattest::testing {
namespace {

namespace fs = std::filesystem;

const fs::path kDeploy = fs::path(REATTEST_SOURCE_DIR) / "deploy";

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<fs::path> YamlFiles() {
  std::vector<fs::path> files;
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(kDeploy)) {
    if (entry.path().extension() == ".yaml" || entry.path().extension() == ".yml") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

// The first document of `kind` in a Kubernetes manifest.
YAML::Node FindKind(const fs::path& manifest, const std::string& kind) {
  for (const YAML::Node& document : YAML::LoadAllFromFile(manifest.string())) {
    if (document["kind"].as<std::string>("") == kind) {
      return document;
    }
  }
  FAIL(manifest.string() << " has no " << kind);
  return {};
}

YAML::Node FindNamed(const YAML::Node& list, const std::string& name) {
  for (const YAML::Node& item : list) {
    if (item["name"].as<std::string>("") == name) {
      return item;
    }
  }
  FAIL("nothing named " << name);
  return {};
}

// The volume that `container` mounts at `mount_path` (and the mount itself).
std::pair<YAML::Node, YAML::Node> MountAt(const YAML::Node& pod_spec, const YAML::Node& container,
                                          const std::string& mount_path) {
  for (const YAML::Node& mount : container["volumeMounts"]) {
    if (mount["mountPath"].as<std::string>() == mount_path) {
      return {FindNamed(pod_spec["volumes"], mount["name"].as<std::string>()), mount};
    }
  }
  FAIL(container["name"].as<std::string>() << " mounts nothing at " << mount_path);
  return {};
}

std::string EnvValue(const YAML::Node& container, const std::string& name) {
  return FindNamed(container["env"], name)["value"].as<std::string>("");
}

std::string Dirname(const std::string& path) { return fs::path(path).parent_path().string(); }

// Builds a new string: GCC 12 warns falsely (-Wrestrict) on an in-place replace.
std::string ReplaceAll(const std::string& text, std::string_view from, std::string_view to) {
  std::string out;
  size_t done = 0;
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, done)) {
    out.append(text, done, at - done).append(to);
    done = at + from.size();
  }
  return out.append(text, done, std::string::npos);
}

int PortOf(const std::string& listen) { return std::stoi(listen.substr(listen.rfind(':') + 1)); }

// The `reattest_*` names in `text` that are neither a family of SPEC section 8
// nor the _bucket, _sum or _count series of one of its histograms. Plain
// scanning: GCC 12 warns falsely inside <regex> in the sanitizer build.
std::set<std::string> UnknownMetrics(const std::string& text) {
  static const std::map<std::string, std::string> families(kSpecMetricFamilies.begin(),
                                                           kSpecMetricFamilies.end());
  auto is_name_char = [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; };
  std::set<std::string> unknown;
  for (size_t at = text.find("reattest_"); at != std::string::npos;
       at = text.find("reattest_", at + 1)) {
    size_t end = at + std::string_view("reattest_").size();
    while (end < text.size() && is_name_char(text[end])) {
      ++end;
    }
    std::string metric = text.substr(at, end - at);
    std::string family = metric;
    for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
      if (metric.ends_with(suffix)) {
        family = metric.substr(0, metric.size() - suffix.size());
      }
    }
    bool known = families.contains(metric) || (family != metric && families.contains(family) &&
                                               families.at(family) == "histogram");
    if (!known) {
      unknown.insert(metric);
    }
    at = end - 1;
  }
  return unknown;
}

// Every `expr` of the dashboard's panels, nested rows included.
void CollectExprs(const nlohmann::json& panels, std::vector<std::string>& exprs) {
  for (const nlohmann::json& panel : panels) {
    for (const nlohmann::json& target : panel.value("targets", nlohmann::json::array())) {
      exprs.push_back(target.at("expr").get<std::string>());
    }
    CollectExprs(panel.value("panels", nlohmann::json::array()), exprs);
  }
}

nlohmann::json Dashboard() {
  return nlohmann::json::parse(ReadFile(kDeploy / "grafana" / "reattest-dashboard.json"));
}

std::vector<std::string> DashboardExprs() {
  std::vector<std::string> exprs;
  CollectExprs(Dashboard().at("panels"), exprs);
  return exprs;
}

// The attestors a config file enables (present under `attestors`).
std::set<std::string> EnabledAttestors(const YAML::Node& config) {
  std::set<std::string> enabled;
  for (const auto& attestor : config["attestors"]) {
    enabled.insert(attestor.first.as<std::string>());
  }
  return enabled;
}

// The config and entries a ConfigMap carries, parsed by the agent's loader in
// a scratch directory (entries_file is relative, so it resolves there).
supervisor::ConfigResult ParseConfigMap(const YAML::Node& config_map, const TempDir& dir) {
  dir.Write("entries.yaml", config_map["data"]["entries.yaml"].as<std::string>());
  return supervisor::ParseConfig(config_map["data"]["config.yaml"].as<std::string>(),
                                 dir / "config.yaml");
}

TEST_CASE("Every YAML file under deploy/ parses, each of its documents a map", "[deploy]") {
  std::vector<fs::path> files = YamlFiles();
  CHECK(files.size() >= 5);  // two manifests, the example config and entries, the alerts
  for (const fs::path& file : files) {
    INFO(file);
    std::vector<YAML::Node> documents;
    REQUIRE_NOTHROW(documents = YAML::LoadAllFromFile(file.string()));
    CHECK_FALSE(documents.empty());
    for (const YAML::Node& document : documents) {
      CHECK(document.IsMap());
    }
  }
}

TEST_CASE("Every Kubernetes object names its apiVersion, kind and name", "[deploy]") {
  for (const char* manifest : {"daemonset.yaml", "sidecar.yaml"}) {
    for (const YAML::Node& object : YAML::LoadAllFromFile(kDeploy / "kubernetes" / manifest)) {
      INFO(manifest << ": " << object["kind"].as<std::string>(""));
      CHECK_FALSE(object["apiVersion"].as<std::string>("").empty());
      CHECK_FALSE(object["kind"].as<std::string>("").empty());
      CHECK_FALSE(object["metadata"]["name"].as<std::string>("").empty());
    }
  }
}

TEST_CASE("The example entries use only the example config's attestors", "[deploy]") {
  supervisor::ConfigResult result =
      supervisor::LoadConfigFile(kDeploy / "examples" / "config.yaml");
  REQUIRE(result.config.has_value());
  absl::StatusOr<std::vector<identity::Entry>> entries =
      identity::LoadEntriesFile(result.config->local.entries_file, result.config->trust_domain);
  REQUIRE(entries.ok());
  CHECK_FALSE(entries->empty());
  YAML::Node config = YAML::LoadFile(kDeploy / "examples" / "config.yaml");
  CHECK(identity::EntryWarnings(*entries, EnabledAttestors(config)).empty());
}

TEST_CASE("The ConfigMaps hold configs the agent accepts but for files only their pod has",
          "[deploy]") {
  // Mounted from the service account and the CA Secret inside the pod.
  const std::set<std::string> pod_only = {"attestors.k8s.token_path", "identity.local.ca_cert",
                                          "identity.local.ca_key"};
  for (const char* manifest : {"daemonset.yaml", "sidecar.yaml"}) {
    INFO(manifest);
    TempDir dir;
    supervisor::ConfigResult result =
        ParseConfigMap(FindKind(kDeploy / "kubernetes" / manifest, "ConfigMap"), dir);
    CHECK_FALSE(result.errors.empty());  // the CA files at least
    for (const std::string& error : result.errors) {
      INFO(error);
      CHECK(std::any_of(pod_only.begin(), pod_only.end(), [&](const std::string& key) {
        return error.find(Concat(": ", key, ": ")) != std::string::npos;
      }));
    }
  }
}

TEST_CASE("The ConfigMaps' entries are valid and use only attestors their config enables",
          "[deploy]") {
  for (const char* manifest : {"daemonset.yaml", "sidecar.yaml"}) {
    INFO(manifest);
    YAML::Node data = FindKind(kDeploy / "kubernetes" / manifest, "ConfigMap")["data"];
    YAML::Node config = YAML::Load(data["config.yaml"].as<std::string>());
    absl::StatusOr<std::vector<identity::Entry>> entries =
        identity::ParseEntries(data["entries.yaml"].as<std::string>(), "entries.yaml",
                               config["trust_domain"].as<std::string>());
    REQUIRE(entries.ok());
    CHECK_FALSE(entries->empty());
    CHECK(identity::EntryWarnings(*entries, EnabledAttestors(config)).empty());
  }
}

TEST_CASE("The DaemonSet shares the node's PID namespace and wires what its config names",
          "[deploy]") {
  const fs::path manifest = kDeploy / "kubernetes" / "daemonset.yaml";
  YAML::Node config =
      YAML::Load(FindKind(manifest, "ConfigMap")["data"]["config.yaml"].as<std::string>());
  YAML::Node pod = FindKind(manifest, "DaemonSet")["spec"]["template"];
  YAML::Node spec = pod["spec"];
  YAML::Node agent = FindNamed(spec["containers"], "reattest");

  CHECK(spec["hostPID"].as<bool>(false));
  std::string node_name_env = config["attestors"]["k8s"]["node_name_env"].as<std::string>();
  CHECK(FindNamed(agent["env"], node_name_env)["valueFrom"]["fieldRef"]["fieldPath"]
            .as<std::string>() == "spec.nodeName");

  std::string metrics_listen = config["metrics"]["listen"].as<std::string>();
  CHECK(metrics_listen == "0.0.0.0:9988");
  CHECK(pod["metadata"]["annotations"]["prometheus.io/scrape"].as<std::string>() == "true");
  CHECK(pod["metadata"]["annotations"]["prometheus.io/port"].as<int>() == PortOf(metrics_listen));

  int health_port = PortOf(config["health"]["listen"].as<std::string>());
  CHECK(agent["livenessProbe"]["httpGet"]["path"].as<std::string>() == "/healthz");
  CHECK(agent["livenessProbe"]["httpGet"]["port"].as<int>() == health_port);
  CHECK(agent["readinessProbe"]["httpGet"]["path"].as<std::string>() == "/readyz");
  CHECK(agent["readinessProbe"]["httpGet"]["port"].as<int>() == health_port);

  auto [socket_volume, socket_mount] =
      MountAt(spec, agent, Dirname(config["socket_path"].as<std::string>()));
  CHECK(socket_volume["hostPath"].IsMap());
  auto [ca_volume, ca_mount] =
      MountAt(spec, agent, Dirname(config["identity"]["local"]["ca_cert"].as<std::string>()));
  CHECK(ca_volume["secret"].IsMap());
  // A subPath mount would freeze the entries file: edits must reach the agent.
  auto [config_volume, config_mount] = MountAt(spec, agent, "/etc/reattest");
  CHECK(config_volume["configMap"]["name"].as<std::string>() ==
        FindKind(manifest, "ConfigMap")["metadata"]["name"].as<std::string>());
  CHECK_FALSE(config_mount["subPath"].IsDefined());
}

TEST_CASE("The sidecar pod shares one PID namespace and the socket with the app", "[deploy]") {
  const fs::path manifest = kDeploy / "kubernetes" / "sidecar.yaml";
  YAML::Node config =
      YAML::Load(FindKind(manifest, "ConfigMap")["data"]["config.yaml"].as<std::string>());
  YAML::Node spec = FindKind(manifest, "Pod")["spec"];
  std::string socket_path = config["socket_path"].as<std::string>();

  CHECK(spec["shareProcessNamespace"].as<bool>(false));
  CHECK_FALSE(spec["hostPID"].as<bool>(false));
  // The agent's start-up check expects hostPID whenever the k8s attestor is on.
  CHECK_FALSE(config["attestors"]["k8s"].IsDefined());

  auto [agent_volume, agent_mount] =
      MountAt(spec, FindNamed(spec["containers"], "reattest"), Dirname(socket_path));
  YAML::Node app = FindNamed(spec["containers"], "app");
  auto [app_volume, app_mount] = MountAt(spec, app, Dirname(socket_path));
  CHECK(agent_volume["name"].as<std::string>() == app_volume["name"].as<std::string>());
  CHECK(agent_volume["emptyDir"].IsDefined());
  CHECK(EnvValue(app, "SPIFFE_ENDPOINT_SOCKET") == Concat("unix://", socket_path));
}

TEST_CASE("The Grafana dashboard parses and queries only metrics the spec names", "[deploy]") {
  nlohmann::json dashboard;
  REQUIRE_NOTHROW(dashboard = Dashboard());
  CHECK(dashboard.at("uid") == "reattest");
  std::vector<std::string> exprs = DashboardExprs();
  REQUIRE_FALSE(exprs.empty());
  for (const std::string& expr : exprs) {
    INFO(expr);
    CHECK(UnknownMetrics(expr).empty());
  }
  CHECK(UnknownMetrics(Dashboard().dump()).empty());  // variables and descriptions too
}

TEST_CASE("The dashboard shows stuck streams, retries, outcomes, recoveries, pushes, rotations",
          "[deploy]") {
  std::string all = Join(DashboardExprs(), "\n");
  for (const char* wanted : {"reattest_stuck_streams", "reattest_oldest_degraded_seconds",
                             "reattest_reattestations_total", "by (reason)",
                             "reattest_attestations_total", "by (attestor, outcome)",
                             "histogram_quantile(0.99, sum by (le) "
                             "(rate(reattest_recovery_duration_seconds_bucket",
                             "reattest_pushes_total", "reattest_svid_rotations_total"}) {
    INFO(wanted);
    CHECK(all.find(wanted) != std::string::npos);
  }
}

TEST_CASE("Every dashboard query is PromQL that promtool accepts", "[deploy]") {
  // Grafana's variables, replaced by what they expand to.
  TempDir dir;
  std::string rules = "groups:\n  - name: dashboard\n    rules:\n";
  std::vector<std::string> exprs = DashboardExprs();
  for (size_t i = 0; i < exprs.size(); ++i) {
    std::string expr =
        ReplaceAll(ReplaceAll(exprs[i], "$__rate_interval", "5m"), "$instance", ".*");
    rules += Concat("      - record: dashboard:query", i,
                    "\n        expr: ", nlohmann::json(expr).dump(), "\n");
  }
  std::string file = dir.Write("rules.yaml", rules);
  std::string output = dir / "promtool.out";
  int status = std::system(Concat("promtool check rules ", file, " >", output, " 2>&1").c_str());
  INFO(ReadFile(output));
  CHECK(status == 0);
}

TEST_CASE("Alert rules query only metrics the spec names", "[deploy]") {
  YAML::Node alerts = YAML::LoadFile(kDeploy / "prometheus" / "alerts.yaml");
  int rules = 0;
  for (const YAML::Node& group : alerts["groups"]) {
    for (const YAML::Node& rule : group["rules"]) {
      std::string expr = rule["expr"].as<std::string>();
      INFO(rule["alert"].as<std::string>() << ": " << expr);
      CHECK(UnknownMetrics(expr).empty());
      ++rules;
    }
  }
  CHECK(rules >= 4);  // stuck streams, retry storm, error ratio, no recovery
}

}  // namespace
}  // namespace reattest::testing
