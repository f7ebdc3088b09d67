#include "framework/model/tokenizer/tokenizer.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "framework/io/atomic_file.h"
#include "framework/model/tokenizer/bpe.h"
#include "framework/model/tokenizer/pretokenizer.h"
#include "framework/util/error.h"
#include "framework/util/utf8.h"

namespace sinklab {
namespace {

using json = nlohmann::json;

struct AddedToken {
  std::string content;
  std::int64_t id;
  bool special, lstrip, rstrip;
};

// One step of a Sequence, flattened.
std::vector<json> flatten(const json& j, const char* list_key) {
  if (j.is_null()) return {};
  if (j.value("type", "") == "Sequence") {
    std::vector<json> out;
    for (const auto& step : j.at(list_key))
      for (auto& s : flatten(step, list_key)) out.push_back(s);
    return out;
  }
  return {j};
}

// Builds a new string: replacing in place would move the tail once per match (quadratic).
std::string replace_all(const std::string& s, const std::string& from, const std::string& to) {
  if (from.empty()) return s;
  std::string out;
  out.reserve(s.size());
  std::size_t pos = 0;
  for (std::size_t hit; (hit = s.find(from, pos)) != std::string::npos; pos = hit + from.size()) {
    out.append(s, pos, hit - pos);
    out += to;
  }
  out.append(s, pos, std::string::npos);
  return out;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

}  // namespace

struct Tokenizer::Impl {
  std::string path;
  std::unique_ptr<BpeModel> bpe;
  std::vector<std::string> id_to_token;
  std::vector<AddedToken> added;         // longest first
  bool added_first_byte[256] = {};       // fast rejection: can an added token start with this byte?
  std::vector<json> normalizers, pretokenizers, decoders;
  std::vector<std::unique_ptr<RegexSplitter>> splitters;  // one per Split / regex ByteLevel step
  json post_processor;

  std::vector<std::string> pretokenize(const std::string& text) const {
    std::vector<std::string> pieces{text};
    std::size_t regex_index = 0;
    for (const auto& step : pretokenizers) {
      std::vector<std::string> next;
      const std::string type = step.value("type", "");
      const RegexSplitter* splitter = nullptr;
      if (type == "Split" || step.value("use_regex", false)) splitter = splitters.at(regex_index++).get();
      for (auto piece : pieces) {
        if (type == "ByteLevel" && step.value("add_prefix_space", false) && !piece.empty() && piece[0] != ' ')
          piece = " " + piece;
        std::vector<std::string> parts = splitter ? splitter->split(piece) : std::vector<std::string>{piece};
        for (auto& p : parts) next.push_back(type == "ByteLevel" ? byte_level_encode(p) : p);
      }
      pieces = std::move(next);
    }
    return pieces;
  }

  std::string normalize(std::string s) const {
    for (const auto& n : normalizers) {
      const std::string type = n.value("type", "");
      if (type == "Prepend") {
        if (!s.empty()) s = n.at("prepend").get<std::string>() + s;
      } else if (type == "Replace") {
        s = replace_all(s, n.at("pattern").at("String").get<std::string>(), n.at("content").get<std::string>());
      }
    }
    return s;
  }

  // Splits raw text at added tokens: (text, -1) for ordinary stretches, ("", id) for a token.
  std::vector<std::pair<std::string, std::int64_t>> split_added(const std::string& text) const {
    std::vector<std::pair<std::string, std::int64_t>> out;
    std::string pending;
    for (std::size_t i = 0; i < text.size();) {
      const AddedToken* hit = nullptr;
      if (added_first_byte[static_cast<unsigned char>(text[i])])
        for (const auto& a : added)
        if (text.compare(i, a.content.size(), a.content) == 0) {
          hit = &a;
          break;
        }
      if (hit == nullptr) {
        pending += text[i++];
        continue;
      }
      if (hit->lstrip)
        while (!pending.empty() && is_space(pending.back())) pending.pop_back();
      if (!pending.empty()) out.push_back({pending, -1});
      pending.clear();
      out.push_back({"", hit->id});
      i += hit->content.size();
      if (hit->rstrip)
        while (i < text.size() && is_space(text[i])) ++i;
    }
    if (!pending.empty()) out.push_back({pending, -1});
    return out;
  }
};

Tokenizer::Tokenizer() : impl_(std::make_unique<Impl>()) {}
Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

Tokenizer Tokenizer::from_file(const std::string& path) {
  Tokenizer t;
  Impl& m = *t.impl_;
  m.path = path;
  json j;
  try {
    j = json::parse(read_file(path));
  } catch (const json::exception& e) {
    throw InputError(fmt::format("'{}' is not valid JSON: {}", path, e.what()));
  }
  try {
    const json& model = j.at("model");
    SINKLAB_INPUT_CHECK(model.value("type", "BPE") == "BPE", "'{}': model type '{}' is not supported (BPE only)", path,
                        model.value("type", ""));
    std::unordered_map<std::string, std::int64_t> vocab;
    for (const auto& [tok, id] : model.at("vocab").items()) vocab[tok] = id.get<std::int64_t>();
    std::vector<std::pair<std::string, std::string>> merges;
    for (const auto& mj : model.at("merges")) {
      if (mj.is_array()) {
        merges.emplace_back(mj.at(0).get<std::string>(), mj.at(1).get<std::string>());
      } else {
        auto s = mj.get<std::string>();
        auto sp = s.find(' ');
        SINKLAB_INPUT_CHECK(sp != std::string::npos, "'{}': merge '{}' is not 'left right'", path, s);
        merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
      }
    }
    for (const auto& a : j.value("added_tokens", json::array())) {
      AddedToken tok{a.at("content").get<std::string>(), a.at("id").get<std::int64_t>(), a.value("special", false),
                     a.value("lstrip", false), a.value("rstrip", false)};
      vocab[tok.content] = tok.id;
      m.added.push_back(tok);
    }
    std::sort(m.added.begin(), m.added.end(), [](auto& a, auto& b) { return a.content.size() > b.content.size(); });
    for (const auto& a : m.added)
      if (!a.content.empty()) m.added_first_byte[static_cast<unsigned char>(a.content[0])] = true;
    std::int64_t max_id = -1;
    for (const auto& [tok, id] : vocab) max_id = std::max(max_id, id);
    m.id_to_token.resize(std::size_t(max_id + 1));
    for (const auto& [tok, id] : vocab) m.id_to_token[std::size_t(id)] = tok;
    std::string unk = model.contains("unk_token") && model["unk_token"].is_string() ? model["unk_token"].get<std::string>() : "";
    m.bpe = std::make_unique<BpeModel>(vocab, merges, model.value("byte_fallback", false),
                                       model.value("ignore_merges", false), unk, model.value("fuse_unk", false));

    m.normalizers = flatten(j.value("normalizer", json()), "normalizers");
    for (const auto& n : m.normalizers) {
      std::string type = n.value("type", "");
      SINKLAB_INPUT_CHECK(type == "Prepend" || (type == "Replace" && n.at("pattern").contains("String")),
                          "'{}': normalizer '{}' is not supported (Prepend, Replace with a String pattern)", path, type);
    }
    m.pretokenizers = flatten(j.value("pre_tokenizer", json()), "pretokenizers");
    for (const auto& p : m.pretokenizers) {
      std::string type = p.value("type", "");
      if (type == "Split") {
        SINKLAB_INPUT_CHECK(p.value("behavior", "") == "Isolated" && !p.value("invert", false) &&
                                p.at("pattern").contains("Regex"),
                            "'{}': only Split with a Regex pattern, behavior Isolated and invert false is supported", path);
        m.splitters.push_back(std::make_unique<RegexSplitter>(p.at("pattern").at("Regex").get<std::string>()));
      } else if (type == "ByteLevel") {
        if (p.value("use_regex", true)) m.splitters.push_back(std::make_unique<RegexSplitter>(kGpt2SplitPattern));
      } else {
        throw InputError(fmt::format("'{}': pre-tokenizer '{}' is not supported (Split, ByteLevel)", path, type));
      }
    }
    m.post_processor = j.value("post_processor", json());
    std::string post = m.post_processor.is_null() ? "" : m.post_processor.value("type", "");
    SINKLAB_INPUT_CHECK(post.empty() || post == "TemplateProcessing" || post == "ByteLevel",
                        "'{}': post-processor '{}' is not supported (TemplateProcessing, ByteLevel)", path, post);
    m.decoders = flatten(j.value("decoder", json()), "decoders");
    for (const auto& d : m.decoders) {
      std::string type = d.value("type", "");
      SINKLAB_INPUT_CHECK(type == "ByteLevel" || type == "Replace" || type == "ByteFallback" || type == "Fuse" || type == "Strip",
                          "'{}': decoder '{}' is not supported", path, type);
    }
  } catch (const json::exception& e) {
    throw InputError(fmt::format("'{}': malformed tokenizer.json: {}", path, e.what()));
  }
  return t;
}

std::vector<std::int64_t> Tokenizer::encode(const std::string& text, bool add_special_tokens) const {
  const Impl& m = *impl_;
  long bad = utf8::invalid_at(text);
  SINKLAB_INPUT_CHECK(bad < 0, "text is not valid UTF-8 (byte {} of {})", bad, text.size());
  std::vector<std::int64_t> ids;
  for (const auto& [segment, added_id] : m.split_added(text)) {
    if (added_id >= 0) {
      ids.push_back(added_id);
      continue;
    }
    for (const auto& piece : m.pretokenize(m.normalize(segment))) m.bpe->encode(piece, ids);
  }
  if (!add_special_tokens || m.post_processor.is_null() || m.post_processor.value("type", "") != "TemplateProcessing")
    return ids;
  std::vector<std::int64_t> out;
  for (const auto& item : m.post_processor.at("single")) {
    if (item.contains("Sequence")) {
      out.insert(out.end(), ids.begin(), ids.end());
    } else {
      const std::string name = item.at("SpecialToken").at("id").get<std::string>();
      for (const auto& id : m.post_processor.at("special_tokens").at(name).at("ids")) out.push_back(id.get<std::int64_t>());
    }
  }
  return out;
}

std::string Tokenizer::decode(const std::vector<std::int64_t>& ids, bool skip_special_tokens) const {
  const Impl& m = *impl_;
  std::vector<std::string> tokens;
  for (auto id : ids) {
    SINKLAB_INPUT_CHECK(id >= 0 && std::size_t(id) < m.id_to_token.size(), "token id {} is outside the vocabulary", id);
    bool special = std::any_of(m.added.begin(), m.added.end(), [&](auto& a) { return a.id == id && a.special; });
    if (!(skip_special_tokens && special)) tokens.push_back(m.id_to_token[std::size_t(id)]);
  }
  for (const auto& d : m.decoders) {
    const std::string type = d.value("type", "");
    if (type == "ByteLevel") {
      std::string all;
      for (const auto& t : tokens) all += t;
      tokens = {utf8::lossy(byte_level_decode(all))};
    } else if (type == "Replace") {
      for (auto& t : tokens) t = replace_all(t, d.at("pattern").at("String"), d.at("content"));
    } else if (type == "ByteFallback") {
      // Runs of <0xAB> tokens become bytes; a run that is not valid UTF-8 becomes one U+FFFD per byte.
      std::vector<std::string> out;
      std::string bytes;
      std::size_t count = 0;
      auto flush = [&] {
        if (count == 0) return;
        if (utf8::invalid_at(bytes) < 0) out.push_back(bytes);
        else
          for (std::size_t k = 0; k < count; ++k) out.push_back("\xEF\xBF\xBD");
        bytes.clear();
        count = 0;
      };
      for (const auto& t : tokens) {
        if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>') {
          bytes += char(std::stoi(t.substr(3, 2), nullptr, 16));
          ++count;
        } else {
          flush();
          out.push_back(t);
        }
      }
      flush();
      tokens = std::move(out);
    } else if (type == "Fuse") {
      std::string all;
      for (const auto& t : tokens) all += t;
      tokens = {all};
    } else if (type == "Strip") {
      const std::string c = d.at("content").get<std::string>();
      const int start = d.value("start", 0), stop = d.value("stop", 0);
      for (auto& t : tokens) {
        for (int k = 0; k < start && t.compare(0, c.size(), c) == 0; ++k) t.erase(0, c.size());
        for (int k = 0; k < stop && t.size() >= c.size() && t.compare(t.size() - c.size(), c.size(), c) == 0; ++k)
          t.erase(t.size() - c.size());
      }
    }
  }
  std::string out;
  for (const auto& t : tokens) out += t;
  return out;
}

std::int64_t Tokenizer::vocab_size() const { return std::int64_t(impl_->id_to_token.size()); }

std::string Tokenizer::id_to_token(std::int64_t id) const {
  SINKLAB_INPUT_CHECK(id >= 0 && std::size_t(id) < impl_->id_to_token.size(), "token id {} is outside the vocabulary", id);
  return impl_->id_to_token[std::size_t(id)];
}

}  // namespace sinklab
