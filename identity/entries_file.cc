#include "identity/entries_file.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>
#include <span>
#include <utility>

#include "common/process.h"
#include "common/selector.h"
#include "common/strings.h"

namespace reattest::identity {
namespace {

constexpr std::string_view kRootKeys[] = {"entries"};
constexpr std::string_view kEntryKeys[] = {"spiffe_id", "dns_names", "federates_with",
                                           "hint",      "selectors", "x509_ttl"};

// Certificate times have whole seconds; a shorter SVID would be valid for no time at all.
constexpr Duration kMinimumTtl = std::chrono::seconds(1);

// Messages count lines from 1; yaml-cpp counts from 0 and gives -1 to nodes
// without a position, such as the root of an empty document.
int LineOf(const YAML::Mark& mark) { return mark.line < 0 ? 1 : mark.line + 1; }

bool IsAbsent(const YAML::Node& node) { return !node.IsDefined() || node.IsNull(); }

absl::Status CheckSelector(std::string_view selector) {
  std::string_view type = SelectorType(selector);
  if (type.empty() || selector.size() == type.size() + 1) {
    return absl::InvalidArgumentError(
        Concat("\"", selector, "\" is not a selector: write TYPE:VALUE, such as unix:uid:1000"));
  }
  return absl::OkStatus();
}

absl::Status CheckTrustDomainId(std::string_view text) {
  absl::StatusOr<SpiffeId> id = SpiffeId::Parse(text);
  if (!id.ok()) {
    return id.status();
  }
  if (!id->path().empty()) {
    return absl::InvalidArgumentError(
        Concat("\"", text, "\" is not a trust domain ID: write spiffe://NAME"));
  }
  return absl::OkStatus();
}

bool IsDnsLabel(std::string_view label) {
  if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
    return false;
  }
  for (char c : label) {
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && c != '-') {
      return false;
    }
  }
  return true;
}

// Host names as certificates carry them, with an optional leading `*.` wildcard.
absl::Status CheckDnsName(std::string_view name) {
  std::string_view host = name.starts_with("*.") ? name.substr(2) : name;
  bool valid = !host.empty() && name.size() <= 253;
  for (std::string_view label : Split(host, ".", /*skip_empty=*/false)) {
    valid = valid && IsDnsLabel(label);
  }
  if (!valid) {
    return absl::InvalidArgumentError(Concat("\"", name, "\" is not a DNS name"));
  }
  return absl::OkStatus();
}

// Parses one file; holds what every message names.
class EntriesParser {
 public:
  EntriesParser(const std::string& file_name, std::string_view trust_domain)
      : file_name_(file_name), trust_domain_(trust_domain) {}

  absl::StatusOr<std::vector<Entry>> ParseRoot(const YAML::Node& root) const;

  absl::Status Error(const YAML::Mark& mark, std::string_view message) const {
    return absl::InvalidArgumentError(Concat(file_name_, ":", LineOf(mark), ": ", message));
  }

 private:
  using FieldParse = absl::Status (EntriesParser::*)(const YAML::Node& value,
                                                     const std::string& key, Entry& entry) const;
  struct Field {
    std::string_view key;
    bool required;
    FieldParse parse;
  };
  static const Field kFields[];

  absl::Status Error(const YAML::Mark& mark, std::string_view key, std::string_view message) const {
    return Error(mark, Concat(key, ": ", message));
  }
  absl::Status Error(const YAML::Mark& mark, std::string_view key,
                     const absl::Status& cause) const {
    return Error(mark, Concat(key, ": ", cause.message()));
  }

  absl::Status CheckKeys(const YAML::Node& map, std::string_view path,
                         std::span<const std::string_view> known) const;
  absl::StatusOr<Entry> ParseEntry(const YAML::Node& node, const std::string& path) const;
  absl::StatusOr<SpiffeId> ParseSpiffeId(const YAML::Node& value, const std::string& key) const;
  absl::StatusOr<std::string> ParseString(const YAML::Node& value, const std::string& key) const;
  absl::StatusOr<std::vector<std::string>> ParseStringList(
      const YAML::Node& value, const std::string& key,
      absl::Status (*check)(std::string_view item)) const;

  absl::Status ParseSelectors(const YAML::Node& value, const std::string& key, Entry& entry) const;
  absl::Status ParseFederatesWith(const YAML::Node& value, const std::string& key,
                                  Entry& entry) const;
  absl::Status ParseDnsNames(const YAML::Node& value, const std::string& key, Entry& entry) const;
  absl::Status ParseHint(const YAML::Node& value, const std::string& key, Entry& entry) const;
  absl::Status ParseTtl(const YAML::Node& value, const std::string& key, Entry& entry) const;

  const std::string& file_name_;
  std::string_view trust_domain_;
};

// Every key of an entry but spiffe_id, which is parsed first because an Entry
// cannot exist without it.
const EntriesParser::Field EntriesParser::kFields[] = {
    {"selectors", true, &EntriesParser::ParseSelectors},
    {"federates_with", false, &EntriesParser::ParseFederatesWith},
    {"dns_names", false, &EntriesParser::ParseDnsNames},
    {"hint", false, &EntriesParser::ParseHint},
    {"x509_ttl", false, &EntriesParser::ParseTtl},
};

absl::StatusOr<std::vector<Entry>> EntriesParser::ParseRoot(const YAML::Node& root) const {
  constexpr std::string_view kHowToWriteNone = "(write `entries: []` for none)";
  if (!IsAbsent(root) && !root.IsMap()) {
    return Error(root.Mark(), "the file must be a map with an `entries:` list");
  }
  if (absl::Status status = CheckKeys(root, "", kRootKeys); !status.ok()) {
    return status;
  }
  const YAML::Node list = IsAbsent(root) ? YAML::Node() : root["entries"];
  if (IsAbsent(list)) {
    return Error(root.Mark(), "entries", Concat("is required ", kHowToWriteNone));
  }
  if (!list.IsSequence()) {
    return Error(list.Mark(), "entries", Concat("must be a list ", kHowToWriteNone));
  }

  std::vector<Entry> entries;
  for (size_t i = 0; i < list.size(); ++i) {
    absl::StatusOr<Entry> entry = ParseEntry(list[i], Concat("entries[", i, "]"));
    if (!entry.ok()) {
      return entry.status();
    }
    entries.push_back(*std::move(entry));
  }
  return entries;
}

absl::Status EntriesParser::CheckKeys(const YAML::Node& map, std::string_view path,
                                      std::span<const std::string_view> known) const {
  if (!map.IsMap()) {
    return absl::OkStatus();
  }
  std::set<std::string> seen;
  for (const auto& pair : map) {
    const YAML::Node& key = pair.first;
    if (!key.IsScalar()) {
      return Error(key.Mark(), path, "keys must be plain names");
    }
    std::string name = path.empty() ? key.Scalar() : Concat(path, ".", key.Scalar());
    if (std::find(known.begin(), known.end(), key.Scalar()) == known.end()) {
      std::vector<std::string> names(known.begin(), known.end());
      return Error(key.Mark(), name, Concat("unknown key (expected ", Join(names, ", "), ")"));
    }
    if (!seen.insert(key.Scalar()).second) {
      return Error(key.Mark(), name, "appears twice");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Entry> EntriesParser::ParseEntry(const YAML::Node& node,
                                                const std::string& path) const {
  if (!node.IsMap()) {
    return Error(node.Mark(), path, "must be a map with spiffe_id and selectors");
  }
  if (absl::Status status = CheckKeys(node, path, kEntryKeys); !status.ok()) {
    return status;
  }
  std::string id_key = Concat(path, ".spiffe_id");
  const YAML::Node id_value = node["spiffe_id"];
  if (IsAbsent(id_value)) {
    return Error(node.Mark(), id_key, "is required");
  }
  absl::StatusOr<SpiffeId> id = ParseSpiffeId(id_value, id_key);
  if (!id.ok()) {
    return id.status();
  }

  Entry entry{.spiffe_id = *std::move(id), .line = LineOf(node.Mark())};
  for (const Field& field : kFields) {
    std::string key = Concat(path, ".", field.key);
    const YAML::Node value = node[std::string(field.key)];
    if (IsAbsent(value) && field.required) {
      return Error(node.Mark(), key, "is required");
    }
    if (IsAbsent(value)) {
      continue;
    }
    if (absl::Status status = (this->*field.parse)(value, key, entry); !status.ok()) {
      return status;
    }
  }
  return entry;
}

absl::StatusOr<SpiffeId> EntriesParser::ParseSpiffeId(const YAML::Node& value,
                                                      const std::string& key) const {
  absl::StatusOr<std::string> text = ParseString(value, key);
  if (!text.ok()) {
    return text.status();
  }
  absl::StatusOr<SpiffeId> id = SpiffeId::Parse(*text);
  if (!id.ok()) {
    return Error(value.Mark(), key, id.status());
  }
  if (id->trust_domain() != trust_domain_) {
    return Error(value.Mark(), key,
                 Concat("\"", *text, "\" is outside trust domain ", trust_domain_));
  }
  if (id->path().empty()) {
    return Error(value.Mark(), key,
                 Concat("\"", *text, "\" names the trust domain itself; add a path"));
  }
  return id;
}

absl::StatusOr<std::string> EntriesParser::ParseString(const YAML::Node& value,
                                                       const std::string& key) const {
  if (!value.IsScalar()) {
    return Error(value.Mark(), key, "must be a string");
  }
  return value.Scalar();
}

absl::StatusOr<std::vector<std::string>> EntriesParser::ParseStringList(
    const YAML::Node& value, const std::string& key,
    absl::Status (*check)(std::string_view item)) const {
  if (!value.IsSequence()) {
    return Error(value.Mark(), key, "must be a list");
  }
  std::vector<std::string> items;
  for (size_t i = 0; i < value.size(); ++i) {
    std::string item_key = Concat(key, "[", i, "]");
    absl::StatusOr<std::string> item = ParseString(value[i], item_key);
    if (!item.ok()) {
      return item.status();
    }
    if (absl::Status status = check(*item); !status.ok()) {
      return Error(value[i].Mark(), item_key, status);
    }
    items.push_back(*std::move(item));
  }
  return items;
}

absl::Status EntriesParser::ParseSelectors(const YAML::Node& value, const std::string& key,
                                           Entry& entry) const {
  absl::StatusOr<std::vector<std::string>> selectors = ParseStringList(value, key, CheckSelector);
  if (!selectors.ok()) {
    return selectors.status();
  }
  if (selectors->empty()) {
    return Error(value.Mark(), key, "must list at least one selector");
  }
  entry.selectors = *std::move(selectors);
  return absl::OkStatus();
}

absl::Status EntriesParser::ParseFederatesWith(const YAML::Node& value, const std::string& key,
                                               Entry& entry) const {
  absl::StatusOr<std::vector<std::string>> ids = ParseStringList(value, key, CheckTrustDomainId);
  if (!ids.ok()) {
    return ids.status();
  }
  entry.federates_with = *std::move(ids);
  return absl::OkStatus();
}

absl::Status EntriesParser::ParseDnsNames(const YAML::Node& value, const std::string& key,
                                          Entry& entry) const {
  absl::StatusOr<std::vector<std::string>> names = ParseStringList(value, key, CheckDnsName);
  if (!names.ok()) {
    return names.status();
  }
  entry.dns_names = *std::move(names);
  return absl::OkStatus();
}

absl::Status EntriesParser::ParseHint(const YAML::Node& value, const std::string& key,
                                      Entry& entry) const {
  absl::StatusOr<std::string> hint = ParseString(value, key);
  if (!hint.ok()) {
    return hint.status();
  }
  entry.hint = *std::move(hint);
  return absl::OkStatus();
}

absl::Status EntriesParser::ParseTtl(const YAML::Node& value, const std::string& key,
                                     Entry& entry) const {
  absl::StatusOr<std::string> text = ParseString(value, key);
  if (!text.ok()) {
    return text.status();
  }
  absl::StatusOr<Duration> ttl = ParseDuration(*text);
  if (!ttl.ok()) {
    return Error(value.Mark(), key, ttl.status());
  }
  if (*ttl < kMinimumTtl) {
    return Error(value.Mark(), key, Concat("must be at least ", FormatDuration(kMinimumTtl)));
  }
  entry.x509_ttl = *ttl;
  return absl::OkStatus();
}

void WarnDisabledAttestors(const Entry& entry, const std::set<std::string>& enabled_attestors,
                           std::vector<std::string>& warnings) {
  for (const std::string& selector : entry.selectors) {
    std::string type(SelectorType(selector));
    if (!enabled_attestors.contains(type)) {
      warnings.push_back(Concat("line ", entry.line, ": entry ", entry.spiffe_id.str(),
                                ": selector \"", selector, "\" needs attestor ", type,
                                ", which is not enabled, so the entry never applies"));
    }
  }
}

}  // namespace

absl::StatusOr<std::vector<Entry>> ParseEntries(std::string_view yaml, const std::string& file_name,
                                                std::string_view trust_domain) {
  EntriesParser parser(file_name, trust_domain);
  // yaml-cpp reports syntax errors, and any access we got wrong, as exceptions.
  try {
    return parser.ParseRoot(YAML::Load(std::string(yaml)));
  } catch (const YAML::Exception& e) {
    return parser.Error(e.mark, e.msg);
  }
}

absl::StatusOr<std::vector<Entry>> LoadEntriesFile(const std::string& path,
                                                   std::string_view trust_domain) {
  absl::StatusOr<std::string> contents = ReadSmallFile(path);
  if (!contents.ok()) {
    return contents.status();
  }
  return ParseEntries(*contents, path, trust_domain);
}

std::vector<std::string> EntryWarnings(const std::vector<Entry>& entries,
                                       const std::set<std::string>& enabled_attestors) {
  std::vector<std::string> warnings;
  std::map<std::string, int> first_line_of_id;
  for (const Entry& entry : entries) {
    WarnDisabledAttestors(entry, enabled_attestors, warnings);
    auto [first, inserted] = first_line_of_id.emplace(entry.spiffe_id.str(), entry.line);
    if (!inserted) {
      warnings.push_back(Concat("line ", entry.line, ": entry ", entry.spiffe_id.str(),
                                " repeats the entry at line ", first->second,
                                "; where both apply to a workload, the first wins"));
    }
  }
  return warnings;
}

}  // namespace reattest::identity
