#pragma once
// A prompt tokenized for the hook and metrics stages, with what each token stands for in the
// decoded text (figures label tokens with it; h5py users slice the text with the offsets).
#include <cstdint>
#include <string>
#include <vector>

#include "framework/io/hdf5_store.h"

namespace sinklab {
class Tokenizer;
}

namespace sinklab::checkpoint {

struct TokenizedPrompt {
  std::vector<std::int64_t> ids;
  std::vector<std::string> pieces;    // the text each token adds to `decoded` (special tokens included)
  std::vector<std::int64_t> offsets;  // [T * 2] byte range of token t in `decoded`, flattened
  std::string decoded;                // decode(ids) with special tokens
};
TokenizedPrompt tokenize_prompt(const Tokenizer& tokenizer, const std::string& text, int max_tokens);
// The same for ids already chosen (e.g. a request of few-shot scoring, an edited prompt).
TokenizedPrompt tokenize_ids(const Tokenizer& tokenizer, std::vector<std::int64_t> ids);
// Only the ids (special tokens added, the first max_tokens kept when > 0): linear in the text.
std::vector<std::int64_t> prompt_ids(const Tokenizer& tokenizer, const std::string& text, int max_tokens);

// Writes the prompt's ids [T], token pieces [T] (strings, dataset "tokens"), offsets [T, 2] and
// decoded text under `group`.
void write_prompt_tokens(Hdf5File& out, const std::string& group, const TokenizedPrompt& prompt);

}  // namespace sinklab::checkpoint
