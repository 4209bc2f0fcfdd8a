// Tokenizer files: GPT-2's vocab.json + merges.txt (tokens written with GPT-2's bytes-to-unicode
// map: printable bytes as themselves, the other 68 bytes as U+0100.. in ascending byte order; space
// is 'Ġ'), scalelab's native directory (those two files plus tokenizer_config.json naming the
// special tokens and the pattern), tiktoken's rank files (`.tiktoken`: one "base64-token rank"
// per line) and HuggingFace's tokenizer.json (byte-level BPE model; ByteLevel pre-tokenizer, or a
// Split on one of our patterns' regexes then ByteLevel without its regex; added tokens as special
// tokens). Malformed files give errors naming the file and the line or field.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "tokenizer/bpe_model.h"

namespace scalelab::tokenizer {

// GPT-2's printable form of a byte string, and back (throws on characters outside the map).
std::string bytes_to_gpt2(std::string_view bytes);
std::string gpt2_to_bytes(std::string_view text, std::string_view where);

// Loads GPT-2-style files. `specials` are vocabulary entries to treat as special tokens (those
// absent from the vocabulary are an error).
BpeModel load_gpt2(const std::filesystem::path& vocab_json, const std::filesystem::path& merges_txt,
                   const std::vector<std::string>& specials);
void save_gpt2(const BpeModel& m, const std::filesystem::path& vocab_json,
               const std::filesystem::path& merges_txt);

// Native directory: vocab.json, merges.txt, tokenizer_config.json.
void save_tokenizer_dir(const BpeModel& m, const std::filesystem::path& dir);
// Any tokenizer scalelab reads, by what `path` is: a native directory; a directory of GPT-2's
// vocab.json + merges.txt; a directory holding only tokenizer.json, or a tokenizer.json file
// (HF); a `.tiktoken` file named after a tiktoken encoding (cl100k_base, o200k_base, r50k_base,
// p50k_base: the pattern and special tokens are that encoding's). A native directory's
// tokenizer_config.json may also name a rank file ("tiktoken": "tokenizer.model") with its pattern
// and special tokens as {"text": id} (Llama 3's tokenizer.model is such a file).
BpeModel load_tokenizer_dir(const std::filesystem::path& path);

// tiktoken's rank file: every token of length ≥ 2 merges from each split into two tokens, at its
// rank (BpeModel::merge_priority); ids are the ranks; specials take the ids given.
BpeModel load_tiktoken(const std::filesystem::path& file, Pattern pattern,
                       const std::vector<std::pair<std::string, int32_t>>& specials);

// HuggingFace tokenizers' tokenizer.json, both ways. Writing: "ignore_merges" says whether whole
// tokens are looked up first (ours always are, unless the model came from a file without it).
nlohmann::json to_hf_tokenizer_json(const BpeModel& m);
BpeModel load_hf_tokenizer_json(const std::filesystem::path& file);

}  // namespace scalelab::tokenizer
