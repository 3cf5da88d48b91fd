// The two framings under NRI's messages, as pure functions (no I/O):
//
// - NRI's multiplexer (containerd/nri pkg/net/multiplex): one socket (the
//   "trunk") carries several byte streams, each chunk as an 8-byte header
//   (big-endian u32 connection id, u32 payload length) and the payload.
//   Connection 1 carries the Plugin service (the plugin serves it),
//   connection 2 the Runtime service (the runtime serves it); 0 is
//   reserved. A stream's bytes may be split over any number of frames.
// - ttrpc (containerd/ttrpc PROTOCOL.md), inside each connection's
//   stream: a 10-byte header (big-endian u32 data length, u32 stream id,
//   u8 message type, u8 flags) and the data, at most 4 MiB.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace prochook::nri {

inline constexpr uint32_t kPluginConn = 1;   // Plugin service: the runtime calls us
inline constexpr uint32_t kRuntimeConn = 2;  // Runtime service: we call the runtime

inline constexpr size_t kMuxHeaderBytes = 8;
inline constexpr size_t kTtrpcHeaderBytes = 10;
inline constexpr uint32_t kTtrpcMaxData = 4u << 20;
// The multiplexer never sends more than a whole ttrpc message in a frame.
inline constexpr uint32_t kMuxMaxPayload = kTtrpcHeaderBytes + kTtrpcMaxData;
// The payload size of the frames we send. The Go multiplexer hands each
// frame whole to one Read of its connection and fails that read with
// ENOMEM when the frame is larger than the reader's buffer; ttrpc reads
// through a bufio.Reader of 4096 bytes, so no larger frame is safe.
inline constexpr size_t kMuxChunkBytes = 4096;

// ttrpc message types; flags are not interpreted (unary calls only).
enum class TtrpcType : uint8_t { kRequest = 1, kResponse = 2, kData = 3 };

struct MuxFrame {
  uint32_t conn = 0;
  std::string payload;
};

struct TtrpcFrame {
  uint32_t stream = 0;
  uint8_t type = 0;
  uint8_t flags = 0;
  std::string data;
};

// A frame parsed from the start of a buffer, and how many bytes it took.
template <typename T>
struct Parsed {
  T frame;
  size_t consumed;
};

// Pure. The frame at the start of buf, nullopt when buf does not hold a
// whole one yet. An error (connection 0, a length above kMuxMaxPayload)
// is decided from the header alone: a bad length is never waited for.
Result<std::optional<Parsed<MuxFrame>>> ParseMuxFrame(std::string_view buf);
// Pure. payload as frames on conn of at most kMuxChunkBytes each (one
// empty frame for an empty payload).
std::string RenderMuxFrames(uint32_t conn, std::string_view payload);

// Pure. As ParseMuxFrame; an error for a length above kTtrpcMaxData.
Result<std::optional<Parsed<TtrpcFrame>>> ParseTtrpcFrame(std::string_view buf);
// Pure. frame.data must be at most kTtrpcMaxData bytes.
Result<std::string> RenderTtrpcFrame(const TtrpcFrame& frame);

// Reassembles frames from bytes as they arrive (a socket read may end
// anywhere). Holds at most one incomplete frame, whose size the header
// bounded.
template <typename T, Result<std::optional<Parsed<T>>> (*Parse)(std::string_view)>
class FrameReader {
 public:
  // Appends bytes; returns every frame completed by them, in order.
  Result<std::vector<T>> Feed(std::string_view bytes) {
    pending_.append(bytes);
    std::vector<T> frames;
    size_t used = 0;
    for (;;) {
      auto parsed = Parse(std::string_view(pending_).substr(used));
      if (!parsed) return parsed.error();
      if (!*parsed) break;
      used += (*parsed)->consumed;
      frames.push_back(std::move((*parsed)->frame));
    }
    pending_.erase(0, used);
    return frames;
  }
  // Bytes of an incomplete frame held.
  size_t pending() const { return pending_.size(); }

 private:
  std::string pending_;
};

using MuxReader = FrameReader<MuxFrame, ParseMuxFrame>;
using TtrpcReader = FrameReader<TtrpcFrame, ParseTtrpcFrame>;

}  // namespace prochook::nri
