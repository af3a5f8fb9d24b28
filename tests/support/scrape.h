// Reading the agent's HTTP endpoints in end-to-end tests: a page of
// `metrics.listen` or `health.listen`, and one series of a metrics scrape.
#pragma once

#include <httplib.h>

#include <string>

namespace reattest::testing {

// The body of `GET path` on 127.0.0.1:port; empty when nothing answers.
inline std::string GetLoopback(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  httplib::Result result = client.Get(path.c_str());
  return result ? result->body : "";
}

// The value of `series` (name and labels as exposed) in a scrape of
// 127.0.0.1:port/metrics; -1 when absent.
inline double ScrapeSeries(int port, const std::string& series) {
  std::string scrape = GetLoopback(port, "/metrics");
  size_t at = scrape.find("\n" + series + " ");
  return at == std::string::npos ? -1 : std::stod(scrape.substr(at + series.size() + 2));
}

}  // namespace reattest::testing
