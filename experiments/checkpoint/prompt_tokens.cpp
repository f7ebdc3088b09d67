#include "experiments/checkpoint/prompt_tokens.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "framework/tokenizer/tokenizer.h"

namespace sinklab::checkpoint {

std::vector<std::int64_t> prompt_ids(const Tokenizer& tokenizer, const std::string& text, int max_tokens) {
  auto ids = tokenizer.encode(text, /*add_special_tokens=*/true);
  if (max_tokens > 0 && ids.size() > std::size_t(max_tokens)) ids.resize(std::size_t(max_tokens));
  return ids;
}

namespace {

// Bytes of `partial` that agree with `full`, backed off to a character boundary of `full`.
std::size_t agreeing_bytes(const std::string& partial, const std::string& full) {
  std::size_t agree = 0;
  while (agree < partial.size() && agree < full.size() && partial[agree] == full[agree]) ++agree;
  while (agree > 0 && agree < full.size() && (static_cast<unsigned char>(full[agree]) & 0xC0) == 0x80) --agree;
  return agree;
}

}  // namespace

TokenizedPrompt tokenize_prompt(const Tokenizer& tokenizer, const std::string& text, int max_tokens) {
  return tokenize_ids(tokenizer, prompt_ids(tokenizer, text, max_tokens));
}

TokenizedPrompt tokenize_ids(const Tokenizer& tokenizer, std::vector<std::int64_t> ids) {
  TokenizedPrompt p;
  p.ids = std::move(ids);
  p.decoded = tokenizer.decode(p.ids, /*skip_special_tokens=*/false);
  // Token t ends where the decoding of ids[0..t] stops agreeing with the full decoding. A
  // character split over byte-fallback tokens decodes to U+FFFD until its last byte arrives,
  // so its bytes are attributed to the token that completes it. Decoding every prefix would be
  // quadratic (minutes for a 1 MB prompt), and a decoder changes text only near the ends of what
  // it decodes (the first token's prefix space, a split character, a last-token suffix), so
  // tokens are read in blocks of kBlock, each decoded with kBlock tokens of left and right
  // context: ids[s..t] against ids[s..e] instead of ids[0..t] against all of them. The window's
  // coordinates are tied to the text's by the previous block's last token, whose end is known.
  constexpr std::size_t kBlock = 32;
  const std::size_t T = p.ids.size();
  auto decode = [&](std::size_t from, std::size_t to) {  // ids[from, to)
    return tokenizer.decode(std::vector<std::int64_t>(p.ids.begin() + std::ptrdiff_t(from), p.ids.begin() + std::ptrdiff_t(to)),
                            /*skip_special_tokens=*/false);
  };
  // agreed[t]: where decode(ids[0..t]) stops agreeing, in the text's bytes (before the max with
  // the previous end; a split character's earlier tokens agree only up to its start, in both).
  std::vector<std::int64_t> agreed(T);
  std::vector<std::size_t> ends(T);
  for (std::size_t b = 0; b < T; b += kBlock) {
    const std::size_t s = b < kBlock ? 0 : b - kBlock, e = std::min(T, b + 2 * kBlock);
    const std::string window = s == 0 && e == T ? p.decoded : decode(s, e);
    // Text byte = window byte + shift (the window's start may lose the first token's prefix).
    std::int64_t shift = 0;
    if (s > 0) shift = agreed[b - 1] - std::int64_t(agreeing_bytes(decode(s, b), window));
    for (std::size_t t = b; t < std::min(T, b + kBlock); ++t) {
      agreed[t] = std::int64_t(agreeing_bytes(decode(s, t + 1), window)) + shift;
      const std::size_t before = t == 0 ? 0 : ends[t - 1];
      ends[t] = std::size_t(std::clamp<std::int64_t>(agreed[t], std::int64_t(before), std::int64_t(p.decoded.size())));
    }
  }
  if (T > 0) ends[T - 1] = p.decoded.size();  // the whole decoding agrees with itself
  for (std::size_t t = 0; t < T; ++t) {
    const std::size_t start = t == 0 ? 0 : ends[t - 1];
    p.offsets.push_back(std::int64_t(start));
    p.offsets.push_back(std::int64_t(ends[t]));
    p.pieces.push_back(p.decoded.substr(start, ends[t] - start));
  }
  return p;
}

void write_prompt_tokens(Hdf5File& out, const std::string& group, const TokenizedPrompt& p) {
  const auto i64 = at::TensorOptions().dtype(at::kLong);
  const std::int64_t T = std::int64_t(p.ids.size());
  out.write(group + "/input_ids", at::tensor(p.ids, i64), {{"meaning", std::string("token ids, [T]")}});
  out.write_strings(group + "/tokens", p.pieces, {{"meaning", std::string("text each token adds to `text`, [T]")}});
  out.write(group + "/offsets", at::tensor(p.offsets, i64).view({T, 2}),
            {{"meaning", std::string("byte range [start, end) of each token in `text`, [T, 2]")}});
  out.write_strings(group + "/text", {p.decoded}, {{"meaning", std::string("the decoded ids, special tokens included")}});
}

}  // namespace sinklab::checkpoint
