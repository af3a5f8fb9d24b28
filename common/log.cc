#include "common/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "common/strings.h"

namespace reattest::log {
namespace {

std::atomic<Level> g_level{Level::kInfo};
std::atomic<Format> g_format{Format::kJson};
std::mutex g_write_mutex;

constexpr std::string_view kLevelNames[] = {"debug", "info", "warn", "error"};

std::string Timestamp() {
  auto now = std::chrono::system_clock::now();
  std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc;
  gmtime_r(&seconds, &utc);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<long long>(millis));
  return buf;
}

bool NeedsQuotes(std::string_view text) {
  return text.empty() || text.find_first_of(" \"=\t\n") != std::string_view::npos;
}

}  // namespace

std::string JsonEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out;
}

absl::StatusOr<Level> ParseLevel(std::string_view name) {
  for (int i = 0; i < 4; ++i) {
    if (name == kLevelNames[i]) {
      return static_cast<Level>(i);
    }
  }
  return absl::InvalidArgumentError(
      Concat("unknown level \"", name, "\": use debug, info, warn or error"));
}

absl::StatusOr<Format> ParseFormat(std::string_view name) {
  if (name == "text") {
    return Format::kText;
  }
  if (name == "json") {
    return Format::kJson;
  }
  return absl::InvalidArgumentError(Concat("unknown format \"", name, "\": use text or json"));
}

void SetLevel(Level level) { g_level.store(level); }
void SetFormat(Format format) { g_format.store(format); }
bool Enabled(Level level) { return level >= g_level.load(); }

Field::Field(std::string_view key, std::string_view value)
    : key_(key),
      json_(Concat("\"", JsonEscape(value), "\"")),
      text_(NeedsQuotes(value) ? json_ : std::string(value)) {}

Field::Field(std::string_view key, int64_t value) : key_(key), json_(Concat(value)), text_(json_) {}

Field::Field(std::string_view key, double value) : key_(key), json_(Concat(value)), text_(json_) {}

Field::Field(std::string_view key, const std::vector<std::string>& values)
    : key_(key), text_(Join(values, ",")) {
  std::vector<std::string> quoted;
  quoted.reserve(values.size());
  for (const std::string& value : values) {
    quoted.push_back(Concat("\"", JsonEscape(value), "\""));
  }
  json_ = Concat("[", Join(quoted, ","), "]");
}

void Logger::Write(Level level, std::string_view msg, std::initializer_list<Field> fields) const {
  if (!Enabled(level)) {
    return;
  }
  std::string_view level_name = kLevelNames[static_cast<int>(level)];
  std::string line;
  if (g_format.load() == Format::kJson) {
    line = Concat("{\"ts\":\"", Timestamp(), "\",\"level\":\"", level_name, "\",\"msg\":\"",
                  JsonEscape(msg), "\",\"component\":\"", component_, "\"");
    for (const Field& field : fields) {
      line += Concat(",\"", field.key(), "\":", field.json());
    }
    line += "}\n";
  } else {
    line = Concat(Timestamp(), " ", level_name, " ", component_, ": ", msg);
    for (const Field& field : fields) {
      line += Concat(" ", field.key(), "=", field.text());
    }
    line += "\n";
  }
  std::lock_guard<std::mutex> lock(g_write_mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace reattest::log
