// `sds_watch SOCKET NAME...`: an Envoy-like SDS client as a process of its
// own, so a test can run it inside a container's cgroups. Subscribes to the
// names on StreamSecrets, ACKs every response like Envoy, and prints each
// response as `+ NAME` lines followed by `update N VERSION`, in one write,
// until it is killed or the stream ends (exit 1).
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "tests/support/sds_client.h"

int main(int argc, char** argv) {
  using namespace reattest::testing;
  if (argc < 2) {
    std::fprintf(stderr, "usage: sds_watch SOCKET [NAME...]\n");
    return 2;
  }
  SotwSdsClient client(argv[1]);
  client.Subscribe(std::vector<std::string>(argv + 2, argv + argc));
  for (int update = 1;; ++update) {
    std::optional<discovery::DiscoveryResponse> response = client.Next(std::chrono::hours(1));
    if (!response) {
      std::string ended = "ended " + client.Finish().error_message() + "\n";
      write(STDOUT_FILENO, ended.data(), ended.size());
      return 1;
    }
    client.Ack(*response);
    std::string block;
    for (const std::string& name : NamesOf(SecretsOf(*response))) {
      block += "+ " + name + "\n";
    }
    block += "update " + std::to_string(update) + " " + response->version_info() + "\n";
    // One write, so a reader that sees the update line has its names too.
    if (write(STDOUT_FILENO, block.data(), block.size()) < 0) {
      return 1;
    }
  }
}
