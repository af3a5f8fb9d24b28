// Structured, one-line-per-event logs (SPEC section 9). Thread-safe: any
// thread may log. JSON field names are stable: ts, level, msg, component,
// then the event's own fields (pid, attestor, outcome, ...).
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace reattest::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
enum class Format { kText, kJson };

absl::StatusOr<Level> ParseLevel(std::string_view name);
absl::StatusOr<Format> ParseFormat(std::string_view name);

// Process-wide settings; may be changed at any time (SIGHUP changes the level).
void SetLevel(Level level);
void SetFormat(Format format);
bool Enabled(Level level);

// One key/value of an event. Numbers stay numbers in JSON.
class Field {
 public:
  Field(std::string_view key, std::string_view value);
  Field(std::string_view key, const char* value) : Field(key, std::string_view(value)) {}
  Field(std::string_view key, const std::string& value) : Field(key, std::string_view(value)) {}
  Field(std::string_view key, int64_t value);
  Field(std::string_view key, int value) : Field(key, static_cast<int64_t>(value)) {}
  Field(std::string_view key, uint64_t value) : Field(key, static_cast<int64_t>(value)) {}
  Field(std::string_view key, double value);
  Field(std::string_view key, const std::vector<std::string>& values);

  std::string_view key() const { return key_; }
  // Already rendered as a JSON value.
  const std::string& json() const { return json_; }
  // Rendered for the text format.
  const std::string& text() const { return text_; }

 private:
  std::string_view key_;
  std::string json_;
  std::string text_;
};

// A named component's logger (`supervisor`, `streams`, `attestor.docker`).
class Logger {
 public:
  explicit Logger(std::string component) : component_(std::move(component)) {}

  void Debug(std::string_view msg, std::initializer_list<Field> fields = {}) const {
    Write(Level::kDebug, msg, fields);
  }
  void Info(std::string_view msg, std::initializer_list<Field> fields = {}) const {
    Write(Level::kInfo, msg, fields);
  }
  void Warn(std::string_view msg, std::initializer_list<Field> fields = {}) const {
    Write(Level::kWarn, msg, fields);
  }
  void Error(std::string_view msg, std::initializer_list<Field> fields = {}) const {
    Write(Level::kError, msg, fields);
  }
  void Write(Level level, std::string_view msg, std::initializer_list<Field> fields) const;

 private:
  std::string component_;
};

// Lets one event through per `interval` and counts the rest, for events a
// misbehaving workload can repeat at will. Not thread-safe: one owner.
class RateLimit {
 public:
  explicit RateLimit(std::chrono::steady_clock::duration interval = std::chrono::seconds(10))
      : interval_(interval) {}

  // The number of events suppressed since the last one let through, or
  // nullopt when this one is suppressed too.
  std::optional<int64_t> Allow(std::chrono::steady_clock::time_point now) {
    if (last_ && now - *last_ < interval_) {
      ++suppressed_;
      return std::nullopt;
    }
    last_ = now;
    return std::exchange(suppressed_, 0);
  }

 private:
  std::chrono::steady_clock::duration interval_;
  std::optional<std::chrono::steady_clock::time_point> last_;
  int64_t suppressed_ = 0;
};

// Escapes `text` as the contents of a JSON string (no surrounding quotes).
std::string JsonEscape(std::string_view text);

}  // namespace reattest::log
