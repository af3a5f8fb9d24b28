#include "supervisor/identity_feed.h"

#include <libgen.h>

#include <map>

#include "common/process.h"
#include "common/strings.h"
#include "identity/entries_file.h"

namespace reattest::supervisor {
namespace {

// Editors and ConfigMap updates produce bursts of events; one reload after
// the burst is quiet for this long.
constexpr auto kQuietPeriod = std::chrono::milliseconds(100);

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

// The result of one rebuild on the thread pool.
struct Rebuilt {
  std::string entries_text;
  absl::StatusOr<std::shared_ptr<const identity::IdentitySnapshot>> snapshot =
      absl::UnknownError("not built");
  bool unchanged = false;
};

}  // namespace

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

  absl::StatusOr<std::string> text = ReadSmallFile(feed->entries_file_);
  if (!text.ok()) {
    return text.status();
  }
  absl::StatusOr<std::vector<identity::Entry>> entries =
      identity::ParseEntries(*text, feed->entries_file_, feed->trust_domain_);
  if (!entries.ok()) {
    return entries.status();
  }
  absl::StatusOr<std::shared_ptr<const identity::IdentitySnapshot>> snapshot =
      identity::BuildSnapshot(*feed->ca_, *std::move(entries), nullptr, feed->x509_ttl_,
                              std::chrono::system_clock::now());
  if (!snapshot.ok()) {
    return snapshot.status();
  }
  feed->current_ = *std::move(snapshot);
  feed->entries_text_ = *std::move(text);
  feed->RecordGauges();
  return feed;
}

IdentityFeed::IdentityFeed(EventLoop& loop, const Config& config, metrics::Metrics& metrics,
                           std::shared_ptr<const identity::LocalCa> ca, SnapshotHandler on_snapshot)
    : loop_(loop),
      metrics_(metrics),
      entries_file_(config.local.entries_file),
      trust_domain_(config.trust_domain),
      x509_ttl_(config.local.x509_ttl),
      ca_(std::move(ca)),
      on_snapshot_(std::move(on_snapshot)),
      quiet_period_(loop),
      rotation_(loop) {}

IdentityFeed::~IdentityFeed() { Stop(); }

absl::Status IdentityFeed::Start() {
  watch_ = new uv_fs_event_t;
  uv_fs_event_init(loop_.uv(), watch_);
  watch_->data = this;
  // The directory, not the file: atomic renames and ConfigMap symlink swaps
  // replace the file's inode, which a watch on the file would lose.
  std::string directory = DirectoryOf(entries_file_);
  int rc = uv_fs_event_start(watch_, &IdentityFeed::OnDirectoryEvent, directory.c_str(), 0);
  if (rc != 0) {
    return absl::InternalError(
        Concat("cannot watch ", directory, " for entries changes: ", uv_strerror(rc)));
  }
  Publish(current_);
  return absl::OkStatus();
}

void IdentityFeed::Stop() {
  stopped_ = true;
  quiet_period_.Stop();
  rotation_.Stop();
  if (watch_ != nullptr) {
    watch_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(watch_),
             [](uv_handle_t* handle) { delete reinterpret_cast<uv_fs_event_t*>(handle); });
    watch_ = nullptr;
  }
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

// Reads and parses the entries (when asked) and mints what needs minting, on
// the thread pool; the loop then publishes the result or keeps the last good.
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
  loop_.QueueWork(
      [result, reread_entries, file = entries_file_, last_text = entries_text_,
       trust_domain = trust_domain_, ca = ca_, previous = current_, ttl = x509_ttl_] {
        std::vector<identity::Entry> entries = previous->entries;
        if (reread_entries) {
          absl::StatusOr<std::string> text = ReadSmallFile(file);
          if (!text.ok()) {
            result->snapshot = text.status();
            return;
          }
          result->entries_text = *text;
          if (*text == last_text) {
            result->unchanged = true;
            return;
          }
          absl::StatusOr<std::vector<identity::Entry>> parsed =
              identity::ParseEntries(*text, file, trust_domain);
          if (!parsed.ok()) {
            result->snapshot = parsed.status();
            return;
          }
          entries = *std::move(parsed);
        } else {
          result->entries_text = last_text;
        }
        result->snapshot = identity::BuildSnapshot(*ca, std::move(entries), previous.get(), ttl,
                                                   std::chrono::system_clock::now());
      },
      [this, alive = std::weak_ptr<int>(alive_), result] {
        if (alive.expired()) {
          return;  // the feed was destroyed while the rebuild ran
        }
        rebuilding_ = false;
        if (stopped_) {
          return;
        }
        if (!result->unchanged) {
          if (result->snapshot.ok()) {
            entries_text_ = result->entries_text;
            log_.Info("identity snapshot updated",
                      {{"entries", static_cast<int64_t>((*result->snapshot)->entries.size())}});
            Publish(*result->snapshot);
          } else {
            metrics_.RecordEntriesReloadError();
            log_.Error("entries file rejected, keeping the last good entries",
                       {{"file", entries_file_},
                        {"error", std::string(result->snapshot.status().message())}});
          }
        }
        if (rebuild_again_) {
          rebuild_again_ = false;
          Rebuild(/*reread_entries=*/true);
        }
      });
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

void IdentityFeed::Publish(std::shared_ptr<const identity::IdentitySnapshot> snapshot) {
  CountRotations(*snapshot);
  current_ = std::move(snapshot);
  RecordGauges();
  if (current_->svids.empty()) {
    rotation_.Stop();
  } else {
    auto due = current_->next_rotation - std::chrono::system_clock::now();
    rotation_.Start(std::max<Duration>(std::chrono::duration_cast<Duration>(due), Duration::zero()),
                    [this] { Rebuild(/*reread_entries=*/false); });
  }
  on_snapshot_(current_);
}

}  // namespace reattest::supervisor
