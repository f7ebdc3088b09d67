#include "framework/tokenizer/tokenizer.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <unordered_set>

#include "framework/io/atomic_file.h"
#include "framework/tokenizer/added_tokens.h"
#include "framework/tokenizer/bpe.h"
#include "framework/tokenizer/decoder.h"
#include "framework/tokenizer/normalizer.h"
#include "framework/tokenizer/post_processor.h"
#include "framework/tokenizer/pre_tokenizer.h"
#include "framework/util/error.h"
#include "framework/util/utf8.h"

namespace sinklab {

using json = nlohmann::json;

struct Tokenizer::Impl {
  std::unique_ptr<BpeModel> model;
  std::unique_ptr<Normalizer> normalizer;
  std::unique_ptr<PreTokenizer> pre_tokenizer;
  std::unique_ptr<AddedTokens> added;
  std::unique_ptr<PostProcessor> post_processor;
  std::unique_ptr<Decoder> decoder;
  std::vector<std::string> id_to_token;
  // What decode reads for an id: id_to_token, except that an added token with normalized=true
  // decodes as its normalized form (tokenizers' simple_id_to_token).
  std::vector<std::string> decode_form;
  std::unordered_set<std::string> special;  // contents of special added tokens (decode skips them)
};

Tokenizer::Tokenizer() : impl_(std::make_unique<Impl>()) {}
Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

Tokenizer Tokenizer::from_file(const std::string& path) {
  Tokenizer t;
  Impl& m = *t.impl_;
  json j;
  try {
    j = json::parse(read_file(path));
  } catch (const json::exception& e) {
    throw InputError(fmt::format("'{}' is not valid JSON: {}", path, e.what()));
  }
  try {
    // Truncation and padding change what encode returns; sinklab's callers choose lengths themselves.
    for (const char* key : {"truncation", "padding"})
      SINKLAB_INPUT_CHECK(j.value(key, json()).is_null(),
                          "it sets \"{}\", which sinklab does not apply; set it to null (callers choose lengths)", key);
    m.model = std::make_unique<BpeModel>(j.at("model"));
    m.normalizer = std::make_unique<Normalizer>(j.value("normalizer", json()));
    m.pre_tokenizer = std::make_unique<PreTokenizer>(j.value("pre_tokenizer", json()));
    m.post_processor = std::make_unique<PostProcessor>(j.value("post_processor", json()));
    m.decoder = std::make_unique<Decoder>(j.value("decoder", json()));

    // tokenizers gives each added token its own id, whatever the file says: the model's id when
    // the vocabulary has the content, an earlier added token's for a repeat, else the next free
    // one after the model's vocabulary (a file made by tokenizers always agrees).
    std::vector<AddedToken> added;
    std::unordered_map<std::string, std::size_t> added_index;  // content -> index into `added`
    std::int64_t next_id = std::int64_t(m.model->vocab().size());
    for (const auto& a : j.value("added_tokens", json::array())) {
      AddedToken tok{a.at("content").get<std::string>(), -1, a.value("special", false), a.value("lstrip", false),
                     a.value("rstrip", false), a.value("normalized", true), a.value("single_word", false)};
      if (tok.content.empty()) continue;
      auto seen = added_index.find(tok.content);
      auto in_model = m.model->vocab().find(tok.content);
      tok.id = seen != added_index.end()            ? added[seen->second].id
               : in_model != m.model->vocab().end() ? in_model->second
                                                    : next_id++;
      if (tok.special) m.special.insert(tok.content);
      if (seen != added_index.end()) {
        added[seen->second] = tok;  // the later entry's flags win
      } else {
        added_index.emplace(tok.content, added.size());
        added.push_back(tok);
      }
    }
    std::int64_t max_id = -1;
    for (const auto& [tok, id] : m.model->vocab()) max_id = std::max(max_id, id);
    for (const auto& a : added) max_id = std::max(max_id, a.id);
    m.id_to_token.resize(std::size_t(max_id + 1));
    for (const auto& [tok, id] : m.model->vocab()) m.id_to_token[std::size_t(id)] = tok;
    for (const auto& a : added) m.id_to_token[std::size_t(a.id)] = a.content;  // added tokens win, as in tokenizers
    m.added = std::make_unique<AddedTokens>(std::move(added), *m.normalizer);
    m.decode_form = m.id_to_token;
    for (const auto& a : m.added->tokens()) m.decode_form[std::size_t(a.id)] = a.form;
  } catch (const json::exception& e) {
    throw InputError(fmt::format("'{}': malformed tokenizer.json: {}", path, e.what()));
  } catch (const InputError& e) {
    throw InputError(fmt::format("'{}': {}", path, e.what()));
  }
  return t;
}

std::vector<std::int64_t> Tokenizer::encode(const std::string& text, bool add_special_tokens) const {
  const Impl& m = *impl_;
  const long bad = utf8::invalid_at(text);
  SINKLAB_INPUT_CHECK(bad < 0, "text is not valid UTF-8 (byte {} of {}); decode it as UTF-8 first", bad, text.size());
  std::vector<Segment> segments;
  m.added->extract(text, *m.normalizer, segments);
  std::vector<std::int64_t> ids;
  std::vector<Piece> pieces;
  for (auto& s : segments) {
    if (s.id >= 0) {
      ids.push_back(s.id);
      continue;
    }
    if (s.text.empty()) continue;
    pieces.clear();
    pieces.push_back(Piece{std::move(s.text), s.at_origin});
    m.pre_tokenizer->apply(pieces);
    for (const auto& p : pieces) m.model->encode(p.text, ids);
  }
  return add_special_tokens ? m.post_processor->apply(std::move(ids)) : ids;
}

std::string Tokenizer::decode(const std::vector<std::int64_t>& ids, bool skip_special_tokens) const {
  const Impl& m = *impl_;
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (auto id : ids) {
    SINKLAB_INPUT_CHECK(id >= 0 && std::size_t(id) < m.id_to_token.size(), "token id {} is outside the vocabulary (0..{})",
                        id, m.id_to_token.size() - 1);
    const std::string& token = m.decode_form[std::size_t(id)];
    if (!(skip_special_tokens && m.special.count(token))) tokens.push_back(token);
  }
  return m.decoder->decode(std::move(tokens));
}

std::int64_t Tokenizer::vocab_size() const { return std::int64_t(impl_->id_to_token.size()); }

std::string Tokenizer::id_to_token(std::int64_t id) const {
  SINKLAB_INPUT_CHECK(id >= 0 && std::size_t(id) < impl_->id_to_token.size(), "token id {} is outside the vocabulary",
                      id);
  return impl_->id_to_token[std::size_t(id)];
}

}  // namespace sinklab
