// The latest rendering of a workload identity into one method's message,
// shared by the streams of that method. When an entries edit or a rotation
// reaches ten thousand streams of one workload, the message is rendered and
// serialized once, and every stream keeps a reference instead of a copy.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "streams/serialize.h"
#include "supervisor/stream_sink.h"

namespace reattest::streams {

template <typename Response>
class RenderCache {
 public:
  using Renderer = std::function<void(const supervisor::WorkloadIdentity&, Response&)>;

  // A message and its deterministic bytes; both null for "nothing".
  struct Rendered {
    std::shared_ptr<const Response> message;
    std::shared_ptr<const std::string> bytes;
  };

  // `render` must depend on nothing but the identity it is given.
  explicit RenderCache(Renderer render) : render_(std::move(render)) {}

  // Loop thread only. Holding the last identity keeps its snapshot alive
  // until the next one, so its address cannot be reused by another.
  Rendered Render(const supervisor::WorkloadIdentity& identity) {
    if (last_.message == nullptr || !(identity == last_identity_)) {
      auto message = std::make_shared<Response>();
      render_(identity, *message);
      last_.bytes = std::make_shared<const std::string>(SerializeDeterministic(*message));
      last_.message = std::move(message);
      last_identity_ = identity;
    }
    return last_;
  }

 private:
  Renderer render_;
  supervisor::WorkloadIdentity last_identity_;
  Rendered last_;
};

}  // namespace reattest::streams
