#pragma once
// The decoder of a tokenizer.json: token strings back to text. ByteLevel, Metaspace, Replace
// (String or Regex), ByteFallback, Fuse, Strip, BPEDecoder and Sequence of these; without a
// decoder the tokens are joined with spaces, as tokenizers does.
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace sinklab {

class Decoder {
 public:
  explicit Decoder(const nlohmann::json& j);  // the "decoder" value; null: join with spaces
  ~Decoder();
  Decoder(Decoder&&) noexcept;
  Decoder& operator=(Decoder&&) noexcept;
  std::string decode(std::vector<std::string> tokens) const;

  struct Step;  // one decoder of the (flattened) sequence

 private:
  std::vector<std::unique_ptr<Step>> steps_;
  bool present_ = false;
};

}  // namespace sinklab
