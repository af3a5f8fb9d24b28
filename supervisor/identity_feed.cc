#include "supervisor/identity_feed.h"

#include <libgen.h>

#include <set>

#include "common/process.h"
#include "common/strings.h"
#include "identity/entries_file.h"
#include "identity/trust.h"

namespace reattest::supervisor {
namespace {

using Clock = std::chrono::system_clock;

// Editors and ConfigMap updates produce bursts of events; one reload after
// the burst is quiet for this long.
constexpr auto kQuietPeriod = std::chrono::milliseconds(100);
// A JWT key that could not be rotated (disk full) is tried again this often;
// the old key keeps signing meanwhile.
constexpr auto kJwtRetryDelay = std::chrono::seconds(10);

std::string DirectoryOf(const std::string& path) {
  std::string copy = path;
  return dirname(copy.data());
}

absl::StatusOr<std::shared_ptr<const identity::LocalCa>> LoadCa(const Config& config) {
  const identity::LocalOptions& local = config.local;
  absl::StatusOr<std::unique_ptr<identity::LocalCa>> ca =
      local.ca_cert
          ? identity::LocalCa::LoadFromFiles(*local.ca_cert, *local.ca_key, config.trust_domain)
          : identity::LocalCa::LoadOrCreate(config.data_dir, config.trust_domain, local.ca_ttl);
  if (!ca.ok()) {
    return ca.status();
  }
  return std::shared_ptr<const identity::LocalCa>(*std::move(ca));
}

absl::StatusOr<std::shared_ptr<const identity::JwtIssuer>> LoadJwtIssuer(
    const identity::JwtKeyPolicy& policy) {
  absl::StatusOr<std::shared_ptr<const identity::JwtKeySet>> keys =
      identity::JwtKeySet::LoadOrCreate(policy, Clock::now());
  if (!keys.ok()) {
    return keys.status();
  }
  return std::make_shared<const identity::JwtIssuer>(*std::move(keys), policy.token_ttl);
}

// Until `when`, rounded up to the next millisecond so the timer never fires
// before it.
Duration Until(Clock::time_point when) {
  auto due = std::chrono::ceil<std::chrono::milliseconds>(when - Clock::now());
  return std::max<Duration>(due, Duration::zero());
}

}  // namespace

// What one rebuild on the thread pool starts from.
struct IdentityFeed::RebuildInput {
  bool reread_entries = false;
  std::string entries_file;
  std::string last_text;
  std::string trust_domain;
  std::shared_ptr<const identity::LocalCa> ca;
  std::shared_ptr<const identity::IdentitySnapshot> previous;
  Duration x509_ttl{};
  std::map<std::string, std::string> bundle_paths;
  identity::BundleFiles bundles;
};

// The result of one rebuild on the thread pool.
struct IdentityFeed::Rebuilt {
  std::string entries_text;
  absl::StatusOr<std::shared_ptr<const identity::IdentitySnapshot>> core =
      absl::UnknownError("not built");
  bool entries_unchanged = false;
  identity::BundleFiles bundles;
  std::vector<absl::Status> bundle_errors;
};

absl::StatusOr<std::unique_ptr<IdentityFeed>> IdentityFeed::Create(EventLoop& loop,
                                                                   const Config& config,
                                                                   metrics::Metrics& metrics,
                                                                   SnapshotHandler on_snapshot) {
  absl::StatusOr<std::shared_ptr<const identity::LocalCa>> ca = LoadCa(config);
  if (!ca.ok()) {
    return ca.status();
  }
  std::unique_ptr<IdentityFeed> feed(
      new IdentityFeed(loop, config, metrics, *std::move(ca), std::move(on_snapshot)));
  if (absl::Status status = feed->LoadTrust(); !status.ok()) {
    return status;
  }
  if (absl::Status status = feed->LoadCore(); !status.ok()) {
    return status;
  }
  feed->current_ = identity::WithTrust(*feed->core_, feed->jwt_, feed->bundles_.bundles);
  feed->WarnUnknownFederations();
  feed->RecordGauges();
  return feed;
}

absl::Status IdentityFeed::LoadTrust() {
  absl::StatusOr<std::shared_ptr<const identity::JwtIssuer>> jwt = LoadJwtIssuer(jwt_policy_);
  if (!jwt.ok()) {
    return jwt.status();
  }
  jwt_ = *std::move(jwt);
  std::vector<absl::Status> bundle_errors;
  bundles_ = identity::ReadBundleFiles(bundle_paths_, {}, bundle_errors);
  return bundle_errors.empty() ? absl::OkStatus() : bundle_errors.front();
}

absl::Status IdentityFeed::LoadCore() {
  absl::StatusOr<std::string> text = ReadSmallFile(entries_file_);
  if (!text.ok()) {
    return text.status();
  }
  absl::StatusOr<std::vector<identity::Entry>> entries =
      identity::ParseEntries(*text, entries_file_, trust_domain_);
  if (!entries.ok()) {
    return entries.status();
  }
  absl::StatusOr<std::shared_ptr<const identity::IdentitySnapshot>> snapshot =
      identity::BuildSnapshot(*ca_, *std::move(entries), nullptr, x509_ttl_, Clock::now());
  if (!snapshot.ok()) {
    return snapshot.status();
  }
  core_ = *std::move(snapshot);
  entries_text_ = *std::move(text);
  return absl::OkStatus();
}

// An entry federating with a trust domain that has no bundle file gets
// nothing for it: most likely a typo or a missing config line.
void IdentityFeed::WarnUnknownFederations() const {
  std::set<std::string> unknown;
  for (const identity::Entry& entry : core_->entries) {
    for (const std::string& id : entry.federates_with) {
      if (!bundle_paths_.contains(id)) {
        unknown.insert(id);
      }
    }
  }
  for (const std::string& id : unknown) {
    log_.Warn("entries federate with a trust domain that has no federated_bundles file",
              {{"trust_domain", id}});
  }
}

IdentityFeed::IdentityFeed(EventLoop& loop, const Config& config, metrics::Metrics& metrics,
                           std::shared_ptr<const identity::LocalCa> ca, SnapshotHandler on_snapshot)
    : loop_(loop),
      metrics_(metrics),
      entries_file_(config.local.entries_file),
      trust_domain_(config.trust_domain),
      x509_ttl_(config.local.x509_ttl),
      ca_(std::move(ca)),
      jwt_policy_{config.data_dir, config.local.jwt_key_ttl, config.local.jwt_ttl},
      bundle_paths_(config.local.federated_bundles),
      on_snapshot_(std::move(on_snapshot)),
      quiet_period_(loop),
      rotation_(loop),
      jwt_rotation_(loop) {}

IdentityFeed::~IdentityFeed() { Stop(); }

absl::Status IdentityFeed::Start() {
  std::set<std::string> directories = {DirectoryOf(entries_file_)};
  for (const auto& [id, path] : bundle_paths_) {
    directories.insert(DirectoryOf(path));
  }
  for (const std::string& directory : directories) {
    if (absl::Status status = Watch(directory); !status.ok()) {
      return status;
    }
  }
  Publish();
  ArmJwtTimer(Until(jwt_->keys().next_change()));
  return absl::OkStatus();
}

// The directory, not the file: atomic renames and ConfigMap symlink swaps
// replace the file's inode, which a watch on the file would lose.
absl::Status IdentityFeed::Watch(const std::string& directory) {
  auto* watch = new uv_fs_event_t;
  uv_fs_event_init(loop_.uv(), watch);
  watch->data = this;
  watches_.push_back(watch);
  int rc = uv_fs_event_start(watch, &IdentityFeed::OnDirectoryEvent, directory.c_str(), 0);
  if (rc != 0) {
    return absl::InternalError(
        Concat("cannot watch ", directory, " for file changes: ", uv_strerror(rc)));
  }
  return absl::OkStatus();
}

void IdentityFeed::Stop() {
  stopped_ = true;
  quiet_period_.Stop();
  rotation_.Stop();
  jwt_rotation_.Stop();
  for (uv_fs_event_t* watch : watches_) {
    watch->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(watch),
             [](uv_handle_t* handle) { delete reinterpret_cast<uv_fs_event_t*>(handle); });
  }
  watches_.clear();
}

void IdentityFeed::OnDirectoryEvent(uv_fs_event_t* handle, const char* filename, int events,
                                    int status) {
  auto* feed = static_cast<IdentityFeed*>(handle->data);
  if (feed != nullptr) {
    feed->ScheduleReload();
  }
}

void IdentityFeed::ScheduleReload() {
  quiet_period_.Start(kQuietPeriod, [this] { Rebuild(/*reread_entries=*/true); });
}

void IdentityFeed::Reload() { Rebuild(/*reread_entries=*/true); }

// Reads the files and mints what needs minting on the thread pool; the loop
// then publishes the result or keeps the last good.
void IdentityFeed::Rebuild(bool reread_entries) {
  if (stopped_) {
    return;
  }
  if (rebuilding_) {
    rebuild_again_ = true;
    return;
  }
  rebuilding_ = true;
  auto result = std::make_shared<Rebuilt>();
  RebuildInput in{reread_entries, entries_file_, entries_text_, trust_domain_, ca_,
                  core_,          x509_ttl_,     bundle_paths_, bundles_};
  loop_.QueueWork(
      [result, in = std::move(in)] {
        result->bundles =
            identity::ReadBundleFiles(in.bundle_paths, in.bundles, result->bundle_errors);
        RebuildCore(in, *result);
      },
      [this, alive = std::weak_ptr<int>(alive_), result] {
        if (alive.expired()) {
          return;  // the feed was destroyed while the rebuild ran
        }
        rebuilding_ = false;
        if (stopped_) {
          return;
        }
        ApplyRebuilt(*result);
        if (rebuild_again_) {
          rebuild_again_ = false;
          Rebuild(/*reread_entries=*/true);
        }
      });
}

void IdentityFeed::RebuildCore(const RebuildInput& in, Rebuilt& out) {
  std::vector<identity::Entry> entries = in.previous->entries;
  out.entries_text = in.last_text;
  if (in.reread_entries) {
    absl::StatusOr<std::string> text = ReadSmallFile(in.entries_file);
    if (!text.ok()) {
      out.core = text.status();
      return;
    }
    if (*text == in.last_text) {
      out.entries_unchanged = true;
      return;
    }
    out.entries_text = *text;
    absl::StatusOr<std::vector<identity::Entry>> parsed =
        identity::ParseEntries(*text, in.entries_file, in.trust_domain);
    if (!parsed.ok()) {
      out.core = parsed.status();
      return;
    }
    entries = *std::move(parsed);
  }
  out.core = identity::BuildSnapshot(*in.ca, std::move(entries), in.previous.get(), in.x509_ttl,
                                     Clock::now());
}

void IdentityFeed::ApplyRebuilt(Rebuilt& result) {
  for (const absl::Status& error : result.bundle_errors) {
    log_.Error("federated bundle rejected, keeping the last good one",
               {{"error", std::string(error.message())}});
  }
  bool changed = !(result.bundles == bundles_);
  if (changed) {
    bundles_ = std::move(result.bundles);
    log_.Info("federated bundles updated",
              {{"bundles", static_cast<int64_t>(bundles_.bundles.size())}});
  }
  if (!result.entries_unchanged) {
    if (result.core.ok()) {
      entries_text_ = result.entries_text;
      core_ = *result.core;
      changed = true;
      WarnUnknownFederations();
      log_.Info("identity snapshot updated",
                {{"entries", static_cast<int64_t>(core_->entries.size())}});
    } else {
      metrics_.RecordEntriesReloadError();
      log_.Error("entries file rejected, keeping the last good entries",
                 {{"file", entries_file_}, {"error", std::string(result.core.status().message())}});
    }
  }
  if (changed) {
    Publish();
  }
}

// Thread pool: replaces a due signing key and drops expired ones; the loop
// then publishes the new JWKS.
void IdentityFeed::AdvanceJwtKeys() {
  auto result = std::make_shared<absl::StatusOr<std::shared_ptr<const identity::JwtKeySet>>>(
      absl::UnknownError("not run"));
  loop_.QueueWork(
      [result, keys = jwt_->key_set(), policy = jwt_policy_] {
        *result = identity::JwtKeySet::Advance(keys, policy, Clock::now());
      },
      [this, alive = std::weak_ptr<int>(alive_), result] {
        if (alive.expired() || stopped_) {
          return;
        }
        if (!result->ok()) {
          log_.Error("JWT key rotation failed, the current key keeps signing",
                     {{"error", std::string(result->status().message())},
                      {"retry_in_ms", std::chrono::milliseconds(kJwtRetryDelay).count()}});
          ArmJwtTimer(kJwtRetryDelay);
          return;
        }
        if (result->value().get() != &jwt_->keys()) {
          jwt_ =
              std::make_shared<const identity::JwtIssuer>(result->value(), jwt_policy_.token_ttl);
          log_.Info("JWT keys updated",
                    {{"kid", jwt_->keys().signer().kid},
                     {"keys", static_cast<int64_t>(jwt_->keys().published().size())}});
          Publish();
        }
        ArmJwtTimer(Until(jwt_->keys().next_change()));
      });
}

void IdentityFeed::ArmJwtTimer(Duration delay) {
  jwt_rotation_.Start(delay, [this] { AdvanceJwtKeys(); });
}

// An SVID re-minted for an entry whose SPIFFE ID the previous snapshot
// already served is a rotation.
void IdentityFeed::CountRotations(const identity::IdentitySnapshot& next) const {
  if (!current_ || current_.get() == &next) {
    return;
  }
  std::map<std::string, const identity::X509Svid*> previous;
  for (const auto& svid : current_->svids) {
    previous[svid->spiffe_id.str()] = svid.get();
  }
  for (const auto& svid : next.svids) {
    auto it = previous.find(svid->spiffe_id.str());
    if (it != previous.end() && it->second != svid.get()) {
      metrics_.RecordSvidRotation();
    }
  }
}

void IdentityFeed::RecordGauges() {
  metrics_.SetEntries(static_cast<int64_t>(current_->entries.size()));
  metrics_.SetCaExpiry(ca_->expiry());
}

void IdentityFeed::Publish() {
  std::shared_ptr<const identity::IdentitySnapshot> next =
      identity::WithTrust(*core_, jwt_, bundles_.bundles);
  CountRotations(*next);
  current_ = std::move(next);
  RecordGauges();
  if (current_->svids.empty()) {
    rotation_.Stop();
  } else {
    rotation_.Start(Until(current_->next_rotation), [this] { Rebuild(/*reread_entries=*/false); });
  }
  on_snapshot_(current_);
}

}  // namespace reattest::supervisor
