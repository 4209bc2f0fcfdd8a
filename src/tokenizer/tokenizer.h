// Encoding and decoding with a BpeModel. encode(): split out special tokens, pre-tokenize (the
// model's pattern), look each piece up whole in the vocabulary (unless the model says merges
// only), else apply merges in priority order (a linear scan for short pieces, a heap for long ones
// — both the lowest-priority adjacent pair first, leftmost on ties). decode(): ids → bytes → UTF-8
// with U+FFFD for invalid sequences; an unknown or unused id is an error.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/bpe_model.h"
#include "tokenizer/pretokenizer.h"

namespace scalelab::tokenizer {

class Tokenizer {
 public:
  explicit Tokenizer(BpeModel model);

  const BpeModel& model() const { return model_; }
  size_t vocab_size() const { return model_.tokens.size(); }

  // Text must be valid UTF-8 (callers validate; see unicode.h). Appends to out. Special tokens in
  // the text are recognised (tiktoken's encode with allowed_special="all").
  void encode(std::string_view text, std::vector<int32_t>& out) const;
  std::vector<int32_t> encode(std::string_view text) const;
  // Without special-token handling: their text is ordinary text (tiktoken's encode_ordinary).
  void encode_ordinary(std::string_view text, std::vector<int32_t>& out) const;
  std::vector<int32_t> encode_ordinary(std::string_view text) const;

  // Raw bytes of the ids; throws on an id outside the vocabulary or unused.
  std::string decode_bytes(const std::vector<int32_t>& ids) const;
  // UTF-8 text; invalid byte sequences become U+FFFD.
  std::string decode(const std::vector<int32_t>& ids) const;

  // One pre-token through BPE, both algorithms (exposed so tests can compare them).
  void encode_piece(std::string_view piece, std::vector<int32_t>& out) const;
  void encode_piece_linear(std::string_view piece, std::vector<int32_t>& out) const;
  void encode_piece_heap(std::string_view piece, std::vector<int32_t>& out) const;

  // Pieces longer than this many bytes use the heap.
  static constexpr size_t kHeapThreshold = 128;

 private:
  struct Merge {
    int32_t rank;
    int32_t result;
  };
  static uint64_t key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }
  const Merge* find_merge(int32_t a, int32_t b) const {
    auto it = merges_.find(key(a, b));
    return it == merges_.end() ? nullptr : &it->second;
  }

  BpeModel model_;
  std::unordered_map<std::string_view, int32_t> token_id_;  // views into model_.tokens
  std::unordered_map<uint64_t, Merge> merges_;
  std::array<int32_t, 256> byte_id_{};
  SpecialSplitter specials_;
  std::vector<int32_t> special_ids_;  // in specials_.specials() order
};

}  // namespace scalelab::tokenizer
