#include "nri/frame.h"

#include <algorithm>

namespace prochook::nri {

namespace {

uint32_t ReadU32(std::string_view b) {
  return uint32_t(uint8_t(b[0])) << 24 | uint32_t(uint8_t(b[1])) << 16 |
         uint32_t(uint8_t(b[2])) << 8 | uint32_t(uint8_t(b[3]));
}

void AppendU32(std::string& out, uint32_t v) {
  out.push_back(char(v >> 24));
  out.push_back(char(v >> 16));
  out.push_back(char(v >> 8));
  out.push_back(char(v));
}

}  // namespace

Result<std::optional<Parsed<MuxFrame>>> ParseMuxFrame(std::string_view buf) {
  if (buf.size() < kMuxHeaderBytes) return std::optional<Parsed<MuxFrame>>();
  const uint32_t conn = ReadU32(buf);
  const uint32_t length = ReadU32(buf.substr(4));
  if (conn == 0) return Error::Msg("mux frame on connection 0 (reserved)");
  if (length > kMuxMaxPayload) {
    return Error::Msg("mux frame of " + std::to_string(length) + " bytes on connection " +
                      std::to_string(conn) + " (at most " + std::to_string(kMuxMaxPayload) + ")");
  }
  if (buf.size() - kMuxHeaderBytes < length) return std::optional<Parsed<MuxFrame>>();
  return std::optional(Parsed<MuxFrame>{
      MuxFrame{conn, std::string(buf.substr(kMuxHeaderBytes, length))}, kMuxHeaderBytes + length});
}

std::string RenderMuxFrames(uint32_t conn, std::string_view payload) {
  std::string out;
  out.reserve(payload.size() + kMuxHeaderBytes * (payload.size() / kMuxChunkBytes + 1));
  do {
    const size_t n = std::min(payload.size(), kMuxChunkBytes);
    AppendU32(out, conn);
    AppendU32(out, uint32_t(n));
    out.append(payload.substr(0, n));
    payload.remove_prefix(n);
  } while (!payload.empty());
  return out;
}

Result<std::optional<Parsed<TtrpcFrame>>> ParseTtrpcFrame(std::string_view buf) {
  if (buf.size() < kTtrpcHeaderBytes) return std::optional<Parsed<TtrpcFrame>>();
  const uint32_t length = ReadU32(buf);
  if (length > kTtrpcMaxData) {
    return Error::Msg("ttrpc message of " + std::to_string(length) + " bytes (at most " +
                      std::to_string(kTtrpcMaxData) + ")");
  }
  if (buf.size() - kTtrpcHeaderBytes < length) return std::optional<Parsed<TtrpcFrame>>();
  TtrpcFrame frame{ReadU32(buf.substr(4)), uint8_t(buf[8]), uint8_t(buf[9]),
                   std::string(buf.substr(kTtrpcHeaderBytes, length))};
  return std::optional(Parsed<TtrpcFrame>{std::move(frame), kTtrpcHeaderBytes + length});
}

Result<std::string> RenderTtrpcFrame(const TtrpcFrame& frame) {
  if (frame.data.size() > kTtrpcMaxData) {
    return Error::Msg("ttrpc message of " + std::to_string(frame.data.size()) + " bytes (at most " +
                      std::to_string(kTtrpcMaxData) + ")");
  }
  std::string out;
  out.reserve(kTtrpcHeaderBytes + frame.data.size());
  AppendU32(out, uint32_t(frame.data.size()));
  AppendU32(out, frame.stream);
  out.push_back(char(frame.type));
  out.push_back(char(frame.flags));
  out.append(frame.data);
  return out;
}

}  // namespace prochook::nri
