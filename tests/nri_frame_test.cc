// The mux and ttrpc framings against bytes written out by hand from their
// published descriptions (containerd/nri pkg/net/multiplex, containerd/ttrpc
// PROTOCOL.md), so a mistake shared by the plugin and the test harness
// (which use the same codec) still shows.
#include <doctest/doctest.h>

#include <string>

#include "nri/frame.h"

using namespace prochook::nri;
using namespace std::string_literals;

TEST_CASE("RenderMuxFrames: big-endian connection id and length, then the payload") {
  CHECK(RenderMuxFrames(kRuntimeConn, "abc") == "\0\0\0\x02\0\0\0\x03"
                                                 "abc"s);
  CHECK(RenderMuxFrames(0x01020304, "") == "\x01\x02\x03\x04\0\0\0\0"s);
}

TEST_CASE("RenderMuxFrames splits payloads into frames of at most 4096 bytes") {
  const std::string payload(4096 * 2 + 5, 'x');
  const std::string out = RenderMuxFrames(kPluginConn, payload);
  REQUIRE(out.size() == payload.size() + 3 * 8);
  CHECK(out.substr(0, 8) == "\0\0\0\x01\0\0\x10\0"s);                 // 4096
  CHECK(out.substr(8 + 4096, 8) == "\0\0\0\x01\0\0\x10\0"s);          // 4096
  CHECK(out.substr(2 * (8 + 4096), 8) == "\0\0\0\x01\0\0\0\x05"s);    // 5
  MuxReader reader;
  auto frames = reader.Feed(out);
  REQUIRE(frames.ok());
  REQUIRE(frames->size() == 3);
  std::string joined;
  for (const auto& f : *frames) joined += f.payload;
  CHECK(joined == payload);
}

TEST_CASE("ParseMuxFrame waits for a whole frame, then consumes exactly it") {
  const std::string two = "\0\0\0\x01\0\0\0\x02hi\0\0\0\x02\0\0\0\x00"s;
  for (size_t n = 0; n < 10; ++n) {
    auto partial = ParseMuxFrame(std::string_view(two).substr(0, n));
    REQUIRE(partial.ok());
    CHECK_FALSE(partial->has_value());
  }
  auto first = ParseMuxFrame(two);
  REQUIRE(first.ok());
  REQUIRE(first->has_value());
  CHECK((*first)->frame.conn == 1);
  CHECK((*first)->frame.payload == "hi");
  CHECK((*first)->consumed == 10);
  auto second = ParseMuxFrame(std::string_view(two).substr(10));
  REQUIRE(second.ok());
  REQUIRE(second->has_value());
  CHECK((*second)->frame.conn == 2);
  CHECK((*second)->frame.payload.empty());
}

TEST_CASE("ParseMuxFrame rejects connection 0 and oversized lengths from the header alone") {
  auto reserved = ParseMuxFrame("\0\0\0\0\0\0\0\x01"s);
  REQUIRE_FALSE(reserved.ok());
  CHECK(reserved.error().message().find("connection 0") != std::string::npos);
  // 4 MiB + 10 is the largest frame the Go multiplexer sends.
  auto largest = ParseMuxFrame("\0\0\0\x01\0\x40\0\x0a"s);
  REQUIRE(largest.ok());
  CHECK_FALSE(largest->has_value());
  auto oversized = ParseMuxFrame("\0\0\0\x01\0\x40\0\x0b"s);
  REQUIRE_FALSE(oversized.ok());
  CHECK(oversized.error().message().find("4194315 bytes") != std::string::npos);
  auto huge = ParseMuxFrame("\0\0\0\x02\xff\xff\xff\xff"s);
  CHECK_FALSE(huge.ok());
}

TEST_CASE("ttrpc frames: length, stream id, type, flags, data") {
  auto out = RenderTtrpcFrame({3, uint8_t(TtrpcType::kRequest), 0, "payload"});
  REQUIRE(out.ok());
  CHECK(*out == "\0\0\0\x07\0\0\0\x03\x01\0payload"s);
  auto parsed = ParseTtrpcFrame("\0\0\0\x02\0\0\0\x05\x02\x04okrest"s);
  REQUIRE(parsed.ok());
  REQUIRE(parsed->has_value());
  CHECK((*parsed)->frame.stream == 5);
  CHECK((*parsed)->frame.type == uint8_t(TtrpcType::kResponse));
  CHECK((*parsed)->frame.flags == 4);
  CHECK((*parsed)->frame.data == "ok");
  CHECK((*parsed)->consumed == 12);
  auto partial = ParseTtrpcFrame("\0\0\0\x02\0\0\0\x05\x02\x04o"s);
  REQUIRE(partial.ok());
  CHECK_FALSE(partial->has_value());
}

TEST_CASE("ttrpc frames above 4 MiB are refused both ways") {
  auto max = ParseTtrpcFrame("\0\x40\0\0\0\0\0\x01\x01\0"s);
  REQUIRE(max.ok());
  CHECK_FALSE(max->has_value());
  auto over = ParseTtrpcFrame("\0\x40\0\x01\0\0\0\x01\x01\0"s);
  REQUIRE_FALSE(over.ok());
  CHECK(over.error().message().find("4194305 bytes") != std::string::npos);
  CHECK_FALSE(RenderTtrpcFrame({1, 1, 0, std::string(kTtrpcMaxData + 1, 'x')}).ok());
  CHECK(RenderTtrpcFrame({1, 1, 0, std::string(kTtrpcMaxData, 'x')}).ok());
}

TEST_CASE("FrameReader reassembles frames fed one byte at a time") {
  const std::string a = *RenderTtrpcFrame({1, 1, 0, "first"});
  const std::string b = *RenderTtrpcFrame({3, 1, 0, ""});
  const std::string bytes = a + b;
  TtrpcReader reader;
  std::vector<TtrpcFrame> got;
  for (char c : bytes) {
    auto frames = reader.Feed(std::string_view(&c, 1));
    REQUIRE(frames.ok());
    for (auto& f : *frames) got.push_back(std::move(f));
  }
  REQUIRE(got.size() == 2);
  CHECK(got[0].data == "first");
  CHECK(got[1].stream == 3);
  CHECK(reader.pending() == 0);
}

TEST_CASE("FrameReader keeps reporting an error once its input is bad") {
  MuxReader reader;
  CHECK_FALSE(reader.Feed("\0\0\0\0\0\0\0\0"s).ok());
  CHECK_FALSE(reader.Feed("\0\0\0\x01\0\0\0\0"s).ok());
}
