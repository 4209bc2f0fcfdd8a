// Tokenizer files: GPT-2's vocab.json + merges.txt (tokens written with GPT-2's bytes-to-unicode
// map: printable bytes as themselves, the other 68 bytes as U+0100.. in ascending byte order; space
// is 'Ġ'), scalelab's native directory (those two files plus tokenizer_config.json naming the
// special tokens), and HuggingFace's tokenizer.json (BPE model, ByteLevel pre-tokenizer without
// prefix space, added special tokens). Malformed files give errors naming the file and line.
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
BpeModel load_tokenizer_dir(const std::filesystem::path& dir);

// HuggingFace tokenizers' tokenizer.json.
nlohmann::json to_hf_tokenizer_json(const BpeModel& m);

}  // namespace scalelab::tokenizer
