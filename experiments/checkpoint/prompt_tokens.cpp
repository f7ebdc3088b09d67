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

TokenizedPrompt tokenize_prompt(const Tokenizer& tokenizer, const std::string& text, int max_tokens) {
  TokenizedPrompt p;
  p.ids = prompt_ids(tokenizer, text, max_tokens);
  p.decoded = tokenizer.decode(p.ids, /*skip_special_tokens=*/false);
  // Token t ends where the decoding of ids[0..t] stops agreeing with the full decoding. A
  // character split over byte-fallback tokens decodes to U+FFFD until its last byte arrives,
  // so its bytes are attributed to the token that completes it.
  std::size_t end = 0;
  std::vector<std::int64_t> prefix;
  for (std::size_t t = 0; t < p.ids.size(); ++t) {
    prefix.push_back(p.ids[t]);
    std::string partial = tokenizer.decode(prefix, false);
    std::size_t agree = 0;
    while (agree < partial.size() && agree < p.decoded.size() && partial[agree] == p.decoded[agree]) ++agree;
    while (agree > 0 && agree < p.decoded.size() && (static_cast<unsigned char>(p.decoded[agree]) & 0xC0) == 0x80) --agree;
    std::size_t start = end;
    end = std::max(end, agree);
    p.offsets.push_back(std::int64_t(start));
    p.offsets.push_back(std::int64_t(end));
    p.pieces.push_back(p.decoded.substr(start, end - start));
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
