// GPT-2 / native / HuggingFace tokenizer file formats.
#include "tokenizer/vocab_io.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <unordered_map>

#include "common/error.h"
#include "common/file_util.h"
#include "tokenizer/unicode.h"

namespace scalelab::tokenizer {

namespace {

// byte → code point of GPT-2's bytes_to_unicode().
const std::array<char32_t, 256>& byte_to_cp() {
  static const std::array<char32_t, 256> table = [] {
    std::array<char32_t, 256> t{};
    std::array<bool, 256> printable{};
    for (int b = '!'; b <= '~'; ++b) printable[static_cast<size_t>(b)] = true;
    for (int b = 0xA1; b <= 0xAC; ++b) printable[static_cast<size_t>(b)] = true;
    for (int b = 0xAE; b <= 0xFF; ++b) printable[static_cast<size_t>(b)] = true;
    char32_t next = 256;
    for (int b = 0; b < 256; ++b)
      t[static_cast<size_t>(b)] =
          printable[static_cast<size_t>(b)] ? static_cast<char32_t>(b) : next++;
    return t;
  }();
  return table;
}

const std::unordered_map<char32_t, unsigned char>& cp_to_byte() {
  static const std::unordered_map<char32_t, unsigned char> table = [] {
    std::unordered_map<char32_t, unsigned char> t;
    for (int b = 0; b < 256; ++b)
      t[byte_to_cp()[static_cast<size_t>(b)]] = static_cast<unsigned char>(b);
    return t;
  }();
  return table;
}

}  // namespace

std::string bytes_to_gpt2(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) append_utf8(out, byte_to_cp()[c]);
  return out;
}

std::string gpt2_to_bytes(std::string_view text, std::string_view where) {
  SCALELAB_CHECK(find_invalid_utf8(text) == std::string_view::npos, "{}: invalid UTF-8 in token",
                 where);
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t len = 0;
    char32_t cp = decode_utf8(text, i, len);
    auto it = cp_to_byte().find(cp);
    SCALELAB_CHECK(it != cp_to_byte().end(), "{}: character U+{:04X} is not in GPT-2's byte map",
                   where, static_cast<uint32_t>(cp));
    out.push_back(static_cast<char>(it->second));
    i += len;
  }
  return out;
}

BpeModel load_gpt2(const std::filesystem::path& vocab_json, const std::filesystem::path& merges_txt,
                   const std::vector<std::string>& specials) {
  // nlohmann::json (a std::map per object), not the ordered type: ordered objects insert in linear
  // time, quadratic for a 50k-entry vocabulary.
  const std::string vname = vocab_json.string();
  nlohmann::json v;
  try {
    v = nlohmann::json::parse(read_text_file(vocab_json));
  } catch (const nlohmann::json::exception& e) {  // syntax, or a number out of range
    std::string msg = e.what();
    if (auto p = msg.find("] "); p != std::string::npos) msg = msg.substr(p + 2);
    SCALELAB_FAIL("{}: malformed JSON: {}", vname, msg);
  }
  SCALELAB_CHECK(v.is_object() && !v.empty(), "{}: expected a JSON object mapping tokens to ids",
                 vname);
  BpeModel m;
  m.tokens.resize(v.size());
  std::vector<char> seen(v.size(), 0);
  std::unordered_map<std::string, int32_t> id_of;
  for (const auto& [tok, idv] : v.items()) {
    SCALELAB_CHECK(idv.is_number_integer(), "{}: id of token '{}' is not an integer", vname, tok);
    const auto id = idv.get<int64_t>();
    SCALELAB_CHECK(id >= 0 && id < static_cast<int64_t>(v.size()),
                   "{}: id {} of token '{}' is outside [0, {})", vname, id, tok, v.size());
    SCALELAB_CHECK(!seen[static_cast<size_t>(id)], "{}: id {} is used twice", vname, id);
    seen[static_cast<size_t>(id)] = 1;
    const bool special = std::find(specials.begin(), specials.end(), tok) != specials.end();
    std::string bytes = special ? tok : gpt2_to_bytes(tok, vname + ": token '" + tok + "'");
    m.tokens[static_cast<size_t>(id)] = bytes;
    if (special)
      m.specials.emplace_back(tok, static_cast<int32_t>(id));
    else
      id_of.emplace(std::move(bytes), static_cast<int32_t>(id));
  }
  for (const auto& s : specials)
    SCALELAB_CHECK(std::any_of(m.specials.begin(), m.specials.end(),
                               [&](const auto& p) { return p.first == s; }),
                   "{}: special token '{}' is not in the vocabulary", vname, s);
  const std::string text = read_text_file(merges_txt);
  const std::string mname = merges_txt.string();
  size_t line_no = 0, pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::string_view line(text.data() + pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || (line_no == 1 && line.starts_with("#version"))) continue;
    size_t sp = line.find(' ');
    SCALELAB_CHECK(sp != std::string_view::npos && sp > 0 && sp + 1 < line.size() &&
                       line.find(' ', sp + 1) == std::string_view::npos,
                   "{}:{}: expected two tokens separated by one space", mname, line_no);
    std::string where = fmt::format("{}:{}", mname, line_no);
    std::string a = gpt2_to_bytes(line.substr(0, sp), where),
                b = gpt2_to_bytes(line.substr(sp + 1), where);
    auto ia = id_of.find(a), ib = id_of.find(b), iab = id_of.find(a + b);
    SCALELAB_CHECK(ia != id_of.end() && ib != id_of.end(),
                   "{}: merge of tokens not in the vocabulary", where);
    SCALELAB_CHECK(iab != id_of.end(), "{}: the merged token is not in the vocabulary", where);
    m.merges.emplace_back(ia->second, ib->second);
    m.merge_result.push_back(iab->second);
  }
  try {
    m.validate();
  } catch (const Error& e) {
    SCALELAB_FAIL("{}: {}", vname, e.what());
  }
  return m;
}

void save_gpt2(const BpeModel& m, const std::filesystem::path& vocab_json,
               const std::filesystem::path& merges_txt) {
  nlohmann::json v = nlohmann::json::object();
  std::vector<char> special(m.tokens.size(), 0);
  for (const auto& s : m.specials) special[static_cast<size_t>(s.second)] = 1;
  for (size_t i = 0; i < m.tokens.size(); ++i)
    v[special[i] ? m.tokens[i] : bytes_to_gpt2(m.tokens[i])] = i;
  std::string merges = "#version: 0.2\n";
  for (const auto& [a, b] : m.merges)
    merges += bytes_to_gpt2(m.tokens[static_cast<size_t>(a)]) + " " +
              bytes_to_gpt2(m.tokens[static_cast<size_t>(b)]) + "\n";
  write_text_file_atomic(vocab_json, v.dump(0) + "\n");
  write_text_file_atomic(merges_txt, merges);
}

void save_tokenizer_dir(const BpeModel& m, const std::filesystem::path& dir) {
  ensure_writable_directory(dir);
  save_gpt2(m, dir / "vocab.json", dir / "merges.txt");
  json::Json cfg;
  cfg["format"] = "scalelab-bpe";
  cfg["version"] = 1;
  cfg["vocab_size"] = m.tokens.size();
  json::Json sp = json::Json::array();
  for (const auto& s : m.specials) sp.push_back(s.first);
  cfg["special_tokens"] = sp;
  cfg["pretokenizer"] = "gpt2";
  cfg["hash"] = m.hash();
  json::write_file(dir / "tokenizer_config.json", cfg);
}

BpeModel load_tokenizer_dir(const std::filesystem::path& dir) {
  SCALELAB_CHECK(std::filesystem::is_directory(dir), "{}: not a tokenizer directory", dir.string());
  const auto cfg_path = dir / "tokenizer_config.json";
  std::vector<std::string> specials;
  if (std::filesystem::exists(cfg_path)) {
    json::Json cfg = json::read_file(cfg_path);
    json::ObjectReader r(cfg, cfg_path.string());
    std::string format = "scalelab-bpe", pre = "gpt2", hash;
    int64_t version = 1, vocab_size = 0;
    r.get("format", format);
    r.get("version", version);
    r.get("vocab_size", vocab_size);
    r.get("special_tokens", specials);
    r.get("pretokenizer", pre);
    r.get("hash", hash);
    r.finish();
    SCALELAB_CHECK(format == "scalelab-bpe" && version == 1,
                   "{}: unsupported tokenizer format {} v{}", cfg_path.string(), format, version);
    BpeModel m = load_gpt2(dir / "vocab.json", dir / "merges.txt", specials);
    SCALELAB_CHECK(vocab_size == 0 || vocab_size == static_cast<int64_t>(m.tokens.size()),
                   "{}: vocab_size {} but vocab.json has {} tokens", cfg_path.string(), vocab_size,
                   m.tokens.size());
    return m;
  }
  // Plain GPT-2 files: <|endoftext|> is special when present.
  if (read_text_file(dir / "vocab.json").find("\"<|endoftext|>\"") != std::string::npos)
    specials.push_back("<|endoftext|>");
  return load_gpt2(dir / "vocab.json", dir / "merges.txt", specials);
}

nlohmann::json to_hf_tokenizer_json(const BpeModel& m) {
  // Plain nlohmann::json throughout: an ordered object would insert 50k vocabulary keys in
  // quadratic time.
  nlohmann::json added = nlohmann::json::array();
  for (const auto& [text, id] : m.specials)
    added.push_back({{"id", id},
                     {"content", text},
                     {"single_word", false},
                     {"lstrip", false},
                     {"rstrip", false},
                     {"normalized", false},
                     {"special", true}});
  nlohmann::json vocab = nlohmann::json::object();
  std::vector<char> special(m.tokens.size(), 0);
  for (const auto& s : m.specials) special[static_cast<size_t>(s.second)] = 1;
  for (size_t i = 0; i < m.tokens.size(); ++i)
    vocab[special[i] ? m.tokens[i] : bytes_to_gpt2(m.tokens[i])] = i;
  nlohmann::json merges = nlohmann::json::array();
  for (const auto& [a, b] : m.merges)
    merges.push_back(bytes_to_gpt2(m.tokens[static_cast<size_t>(a)]) + " " +
                     bytes_to_gpt2(m.tokens[static_cast<size_t>(b)]));
  return {{"version", "1.0"},
          {"truncation", nullptr},
          {"padding", nullptr},
          {"added_tokens", added},
          {"normalizer", nullptr},
          {"pre_tokenizer",
           {{"type", "ByteLevel"},
            {"add_prefix_space", false},
            {"trim_offsets", true},
            {"use_regex", true}}},
          {"post_processor", nullptr},
          {"decoder",
           {{"type", "ByteLevel"},
            {"add_prefix_space", false},
            {"trim_offsets", true},
            {"use_regex", true}}},
          {"model",
           {{"type", "BPE"},
            {"dropout", nullptr},
            {"unk_token", nullptr},
            {"continuing_subword_prefix", nullptr},
            {"end_of_word_suffix", nullptr},
            {"fuse_unk", false},
            {"byte_fallback", false},
            {"vocab", vocab},
            {"merges", merges}}}};
}

}  // namespace scalelab::tokenizer
