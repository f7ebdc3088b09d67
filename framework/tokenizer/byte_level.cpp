#include "framework/tokenizer/byte_level.h"

#include <array>

#include "framework/util/utf8.h"

namespace sinklab::byte_level {
namespace {

// Printable bytes map to themselves; the others, in order, to U+0100 upwards.
struct Table {
  std::array<std::string, 256> to_char;
  std::array<int, 324> to_byte;  // code point (< U+0144) -> byte, or -1
  Table() {
    to_byte.fill(-1);
    int next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      const int cp = printable ? b : next++;
      to_char[b] = utf8::encode(std::uint32_t(cp));
      to_byte[std::size_t(cp)] = b;
    }
  }
};

const Table& table() {
  static const Table t;
  return t;
}

}  // namespace

void append_encoded(std::string& out, const std::string& bytes, std::size_t start, std::size_t end) {
  const Table& t = table();
  for (std::size_t i = start; i < end; ++i) out += t.to_char[static_cast<unsigned char>(bytes[i])];
}

bool decode_token(const std::string& token, std::string& out) {
  const Table& t = table();
  const std::size_t mark = out.size();
  for (std::size_t i = 0; i < token.size();) {
    const char32_t c = utf8::next(token, i);
    if (c >= t.to_byte.size() || t.to_byte[c] < 0) {
      out.resize(mark);
      return false;
    }
    out += char(t.to_byte[c]);
  }
  return true;
}

}  // namespace sinklab::byte_level
