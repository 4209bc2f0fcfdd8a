// GPT-2 / native / HuggingFace tokenizer file formats.
#include "tokenizer/vocab_io.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <unordered_map>

#include "common/error.h"
#include "common/file_util.h"
#include "common/format.h"
#include "tokenizer/unicode.h"

namespace scalelab::tokenizer {

namespace {

// Largest id a vocabulary file may use (a bound on what a malformed file can make us allocate).
constexpr int64_t kMaxVocabulary = int64_t{1} << 22;

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

// Calls f(line_no, line) for every line of text, numbered from 1, a trailing '\r' dropped.
template <typename F>
void for_each_line(std::string_view text, F&& f) {
  size_t line_no = 0, pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line(text.data() + pos, eol - pos);
    pos = eol + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    f(++line_no, line);
  }
}

// Appends the merge of tokens a and b (bytes): both and their concatenation must be tokens.
void add_merge(BpeModel& m, const std::unordered_map<std::string, int32_t>& id_of,
               const std::string& a, const std::string& b, const std::string& where) {
  const auto ia = id_of.find(a), ib = id_of.find(b), iab = id_of.find(a + b);
  SCALELAB_CHECK(ia != id_of.end() && ib != id_of.end(),
                 "{}: merge of tokens not in the vocabulary", where);
  SCALELAB_CHECK(iab != id_of.end(), "{}: the merged token is not in the vocabulary", where);
  m.merges.emplace_back(ia->second, ib->second);
  m.merge_result.push_back(iab->second);
}

// The model, validated; an inconsistency is reported against the file it came from.
BpeModel validated(BpeModel m, const std::string& file) {
  try {
    m.validate();
  } catch (const Error& e) {
    SCALELAB_FAIL("{}: {}", file, e.what());
  }
  return m;
}

// A JSON file as nlohmann::json (a std::map per object, not the ordered type: ordered objects
// insert in linear time, quadratic for a 50k-entry vocabulary); syntax errors name the file.
nlohmann::json read_json_unordered(const std::filesystem::path& path) {
  try {
    return nlohmann::json::parse(read_text_file(path));
  } catch (const nlohmann::json::exception& e) {  // syntax, or a number out of range
    std::string msg = e.what();
    if (auto p = msg.find("] "); p != std::string::npos) msg = msg.substr(p + 2);
    SCALELAB_FAIL("{}: malformed JSON: {}", path.string(), msg);
  }
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
  const std::string vname = vocab_json.string();
  const nlohmann::json v = read_json_unordered(vocab_json);
  SCALELAB_CHECK(v.is_object() && !v.empty(), "{}: expected a JSON object mapping tokens to ids",
                 vname);
  BpeModel m;
  int64_t max_id = -1;
  for (const auto& [tok, idv] : v.items()) {
    SCALELAB_CHECK(idv.is_number_integer(), "{}: id of token '{}' is not an integer", vname,
                   printable_excerpt(tok));
    const auto id = idv.get<int64_t>();
    SCALELAB_CHECK(id >= 0 && id < kMaxVocabulary, "{}: id {} of token '{}' is outside [0, {})",
                   vname, id, printable_excerpt(tok), kMaxVocabulary);
    max_id = std::max(max_id, id);
  }
  // Ids may leave gaps (unused ids, as in vocabularies converted from tiktoken's).
  m.tokens.resize(static_cast<size_t>(max_id + 1));
  std::vector<char> seen(m.tokens.size(), 0);
  std::unordered_map<std::string, int32_t> id_of;
  for (const auto& [tok, idv] : v.items()) {
    const auto id = idv.get<int64_t>();
    SCALELAB_CHECK(!seen[static_cast<size_t>(id)], "{}: id {} is used twice", vname, id);
    seen[static_cast<size_t>(id)] = 1;
    const bool special = std::find(specials.begin(), specials.end(), tok) != specials.end();
    std::string bytes =
        special ? tok : gpt2_to_bytes(tok, vname + ": token '" + printable_excerpt(tok) + "'");
    SCALELAB_CHECK(!bytes.empty(), "{}: token {} is empty", vname, id);
    m.tokens[static_cast<size_t>(id)] = bytes;
    if (special)
      m.specials.emplace_back(tok, static_cast<int32_t>(id));
    else
      id_of.emplace(std::move(bytes), static_cast<int32_t>(id));
  }
  for (const auto& s : specials)
    SCALELAB_CHECK(std::any_of(m.specials.begin(), m.specials.end(),
                               [&](const auto& p) { return p.first == s; }),
                   "{}: special token '{}' is not in the vocabulary", vname, printable_excerpt(s));
  const std::string text = read_text_file(merges_txt);
  const std::string mname = merges_txt.string();
  for_each_line(text, [&](size_t line_no, std::string_view line) {
    if (line.empty() || (line_no == 1 && line.starts_with("#version"))) return;
    size_t sp = line.find(' ');
    SCALELAB_CHECK(sp != std::string_view::npos && sp > 0 && sp + 1 < line.size() &&
                       line.find(' ', sp + 1) == std::string_view::npos,
                   "{}:{}: expected two tokens separated by one space", mname, line_no);
    const std::string where = fmt::format("{}:{}", mname, line_no);
    add_merge(m, id_of, gpt2_to_bytes(line.substr(0, sp), where),
              gpt2_to_bytes(line.substr(sp + 1), where), where);
  });
  return validated(std::move(m), vname);
}

void save_gpt2(const BpeModel& m, const std::filesystem::path& vocab_json,
               const std::filesystem::path& merges_txt) {
  nlohmann::json v = nlohmann::json::object();
  std::vector<char> special(m.tokens.size(), 0);
  for (const auto& s : m.specials) special[static_cast<size_t>(s.second)] = 1;
  for (size_t i = 0; i < m.tokens.size(); ++i)
    if (!m.tokens[i].empty()) v[special[i] ? m.tokens[i] : bytes_to_gpt2(m.tokens[i])] = i;
  std::string merges = "#version: 0.2\n";
  for (const auto& [a, b] : m.merges)
    merges += bytes_to_gpt2(m.tokens[static_cast<size_t>(a)]) + " " +
              bytes_to_gpt2(m.tokens[static_cast<size_t>(b)]) + "\n";
  write_text_file_atomic(vocab_json, v.dump(0) + "\n");
  write_text_file_atomic(merges_txt, merges);
}

namespace {

// Whether the merge priorities are "by result": merges in priority order, and one priority per
// merged token (what load_tiktoken builds), so tokenizer_config.json can say so in one word.
bool priority_by_result(const BpeModel& m) {
  std::unordered_map<int32_t, int32_t> first;  // result → its first merge's priority
  for (size_t r = 0; r < m.merges.size(); ++r) {
    if (r > 0 && m.merge_priority[r] < m.merge_priority[r - 1]) return false;
    auto [it, fresh] = first.emplace(m.merge_result[r], m.merge_priority[r]);
    if (!fresh && it->second != m.merge_priority[r]) return false;
    if (fresh && r > 0 && m.merge_priority[r] == m.merge_priority[r - 1]) return false;
  }
  return true;
}

void set_priority_by_result(BpeModel& m) {
  m.merge_priority.resize(m.merges.size());
  std::unordered_map<int32_t, int32_t> first;
  for (size_t r = 0; r < m.merges.size(); ++r)
    m.merge_priority[r] = first.emplace(m.merge_result[r], static_cast<int32_t>(r)).first->second;
}

Pattern parse_pattern(const std::string& name, std::string_view where) {
  for (const auto& [p, n] : fields::EnumNames<Pattern>::kNames)
    if (n == name) return p;
  SCALELAB_FAIL("{}: unknown pre-tokenizer pattern '{}' (expected one of: {})", where,
                printable_excerpt(name), fmt::join(fields::enum_choices<Pattern>(), ", "));
}

// The special tokens of tiktoken's encodings (tiktoken_ext/openai_public.py), by file stem.
struct TiktokenEncoding {
  std::string_view stem;
  Pattern pattern;
  std::vector<std::pair<std::string, int32_t>> specials;
};
const std::vector<TiktokenEncoding>& tiktoken_encodings() {
  static const std::vector<TiktokenEncoding> e = {
      {"cl100k_base",
       Pattern::kCl100k,
       {{"<|endoftext|>", 100257},
        {"<|fim_prefix|>", 100258},
        {"<|fim_middle|>", 100259},
        {"<|fim_suffix|>", 100260},
        {"<|endofprompt|>", 100276}}},
      {"o200k_base", Pattern::kO200k, {{"<|endoftext|>", 199999}, {"<|endofprompt|>", 200018}}},
      {"r50k_base", Pattern::kGpt2, {{"<|endoftext|>", 50256}}},
      {"p50k_base", Pattern::kGpt2, {{"<|endoftext|>", 50256}}},
  };
  return e;
}

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Standard base64 with padding; false on anything else.
bool base64_decode(std::string_view in, std::string& out) {
  out.clear();
  if (in.empty() || in.size() % 4 != 0) return false;
  for (size_t i = 0; i < in.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = in[i + static_cast<size_t>(k)];
      if (c == '=' && i + 4 == in.size() && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      if (pad > 0) return false;  // data after padding
      v[k] = base64_value(c);
      if (v[k] < 0) return false;
    }
    const uint32_t w = (static_cast<uint32_t>(v[0]) << 18) | (static_cast<uint32_t>(v[1]) << 12) |
                       (static_cast<uint32_t>(v[2]) << 6) | static_cast<uint32_t>(v[3]);
    out.push_back(static_cast<char>((w >> 16) & 0xFF));
    if (pad < 2) out.push_back(static_cast<char>((w >> 8) & 0xFF));
    if (pad < 1) out.push_back(static_cast<char>(w & 0xFF));
  }
  return true;
}

}  // namespace

void save_tokenizer_dir(const BpeModel& m, const std::filesystem::path& dir) {
  SCALELAB_CHECK(m.merge_priority.empty() || priority_by_result(m),
                 "{}: this tokenizer's merge priorities cannot be saved as a tokenizer directory",
                 dir.string());
  ensure_writable_directory(dir);
  save_gpt2(m, dir / "vocab.json", dir / "merges.txt");
  json::Json cfg;
  cfg["format"] = "scalelab-bpe";
  cfg["version"] = 1;
  cfg["vocab_size"] = m.tokens.size();
  json::Json sp = json::Json::array();
  for (const auto& s : m.specials) sp.push_back(s.first);
  cfg["special_tokens"] = sp;
  cfg["pretokenizer"] = fields::enum_name(m.pattern);
  if (!m.merge_priority.empty()) cfg["merge_priority"] = "by_result";
  if (!m.whole_token_lookup) cfg["merges_only"] = true;
  cfg["hash"] = m.hash();
  json::write_file(dir / "tokenizer_config.json", cfg);
}

BpeModel load_tiktoken(const std::filesystem::path& file, Pattern pattern,
                       const std::vector<std::pair<std::string, int32_t>>& specials) {
  const std::string name = file.string();
  const std::string text = read_text_file(file);
  std::vector<std::string> by_rank;
  std::unordered_map<std::string, int32_t> rank_of;
  std::string bytes;
  for_each_line(text, [&](size_t line_no, std::string_view line) {
    if (line.empty()) return;
    const size_t sp = line.find(' ');
    SCALELAB_CHECK(
        sp != std::string_view::npos && sp > 0 && line.find(' ', sp + 1) == std::string_view::npos,
        "{}:{}: expected a base64 token and a rank separated by one space", name, line_no);
    const std::string_view tok = line.substr(0, sp), rank_text = line.substr(sp + 1);
    SCALELAB_CHECK(base64_decode(tok, bytes), "{}:{}: token '{}' is not base64", name, line_no,
                   printable_excerpt(tok));
    int64_t rank = -1;
    const auto [end, ec] =
        std::from_chars(rank_text.data(), rank_text.data() + rank_text.size(), rank);
    SCALELAB_CHECK(ec == std::errc() && end == rank_text.data() + rank_text.size() && rank >= 0 &&
                       rank < kMaxVocabulary,
                   "{}:{}: rank '{}' is not an integer in [0, {})", name, line_no,
                   printable_excerpt(rank_text), kMaxVocabulary);
    SCALELAB_CHECK(rank_of.emplace(bytes, static_cast<int32_t>(rank)).second,
                   "{}:{}: token '{}' appears twice", name, line_no, printable_excerpt(tok));
    if (static_cast<size_t>(rank) >= by_rank.size()) by_rank.resize(static_cast<size_t>(rank) + 1);
    SCALELAB_CHECK(by_rank[static_cast<size_t>(rank)].empty(), "{}:{}: rank {} appears twice", name,
                   line_no, rank);
    by_rank[static_cast<size_t>(rank)] = bytes;
  });
  SCALELAB_CHECK(!by_rank.empty(), "{}: no tokens", name);
  BpeModel m;
  m.pattern = pattern;
  m.tokens = by_rank;
  for (const auto& [t, id] : specials) {
    SCALELAB_CHECK(id >= 0 && id < kMaxVocabulary, "{}: special token '{}' has id {}", name,
                   printable_excerpt(t), id);
    if (static_cast<size_t>(id) >= m.tokens.size()) m.tokens.resize(static_cast<size_t>(id) + 1);
    SCALELAB_CHECK(m.tokens[static_cast<size_t>(id)].empty(),
                   "{}: special token '{}' takes id {}, which the file ranks", name,
                   printable_excerpt(t), id);
    m.tokens[static_cast<size_t>(id)] = t;
    m.specials.emplace_back(t, id);
  }
  // Every split of every token into two tokens is a merge at the token's rank, in rank order.
  for (size_t r = 0; r < by_rank.size(); ++r) {
    const std::string& t = by_rank[r];
    for (size_t i = 1; i < t.size(); ++i) {
      auto a = rank_of.find(t.substr(0, i));
      if (a == rank_of.end()) continue;
      auto b = rank_of.find(t.substr(i));
      if (b == rank_of.end()) continue;
      m.merges.emplace_back(a->second, b->second);
      m.merge_result.push_back(static_cast<int32_t>(r));
      m.merge_priority.push_back(static_cast<int32_t>(r));
    }
  }
  return validated(std::move(m), name);
}

BpeModel load_tokenizer_dir(const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  if (fs::is_regular_file(path)) {
    if (path.extension() == ".tiktoken") {
      for (const auto& e : tiktoken_encodings())
        if (path.stem() == e.stem) return load_tiktoken(path, e.pattern, e.specials);
      SCALELAB_FAIL(
          "{}: unknown tiktoken encoding '{}' (known: cl100k_base, o200k_base, r50k_base, "
          "p50k_base); for another rank file write a tokenizer_config.json naming it, its "
          "pattern and its special tokens (docs/tokenizer.md)",
          path.string(), path.stem().string());
    }
    if (path.extension() == ".json") return load_hf_tokenizer_json(path);
    SCALELAB_FAIL(
        "{}: not a tokenizer (expected a directory, a tokenizer.json or a .tiktoken file)",
        path.string());
  }
  const fs::path& dir = path;
  SCALELAB_CHECK(fs::is_directory(dir), "{}: not a tokenizer directory", dir.string());
  const auto cfg_path = dir / "tokenizer_config.json";
  std::vector<std::string> specials;
  // scalelab's own config names its format; an HF tokenizer_config.json (an export) does not.
  const json::Json cfg = fs::exists(cfg_path) ? json::read_file(cfg_path) : json::Json();
  if (cfg.contains("format")) {
    json::ObjectReader r(cfg, cfg_path.string());
    std::string format = "scalelab-bpe", pre = "gpt2", hash, priority, tiktoken;
    int64_t version = 1, vocab_size = 0;
    bool merges_only = false;
    r.get("format", format);
    r.get("version", version);
    r.get("vocab_size", vocab_size);
    r.get("pretokenizer", pre);
    r.get("hash", hash);
    r.get("merge_priority", priority);
    r.get("merges_only", merges_only);
    r.get("tiktoken", tiktoken);
    SCALELAB_CHECK(format == "scalelab-bpe" && version == 1,
                   "{}: unsupported tokenizer format {} v{}", cfg_path.string(), format, version);
    const Pattern pattern = parse_pattern(pre, cfg_path.string() + ".pretokenizer");
    SCALELAB_CHECK(priority.empty() || priority == "by_result",
                   "{}.merge_priority: expected \"by_result\" (got \"{}\")", cfg_path.string(),
                   priority);
    BpeModel m;
    if (!tiktoken.empty()) {
      // A rank file with its special tokens as {"text": id}.
      std::vector<std::pair<std::string, int32_t>> sp;
      if (r.has("special_tokens")) {
        const json::Json& o = r.at("special_tokens");
        SCALELAB_CHECK(o.is_object(),
                       "{}.special_tokens: expected {{\"text\": id, …}} beside "
                       "\"tiktoken\", got {}",
                       cfg_path.string(), json::describe(o));
        for (const auto& [t, id] : o.items())
          sp.emplace_back(t, json::ObjectReader::convert<int32_t>(
                                 id, cfg_path.string() + ".special_tokens." + t));
      }
      r.accept("special_tokens");
      r.finish();
      m = load_tiktoken(dir / tiktoken, pattern, sp);
    } else {
      r.get("special_tokens", specials);
      r.finish();
      m = load_gpt2(dir / "vocab.json", dir / "merges.txt", specials);
      m.pattern = pattern;
      if (priority == "by_result") set_priority_by_result(m);
      m.whole_token_lookup = !merges_only;
    }
    SCALELAB_CHECK(vocab_size == 0 || vocab_size == static_cast<int64_t>(m.tokens.size()),
                   "{}: vocab_size {} but the vocabulary has {} ids", cfg_path.string(), vocab_size,
                   m.tokens.size());
    return m;
  }
  if (!fs::exists(dir / "vocab.json") && fs::exists(dir / "tokenizer.json"))
    return load_hf_tokenizer_json(dir / "tokenizer.json");
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
    if (!m.tokens[i].empty()) vocab[special[i] ? m.tokens[i] : bytes_to_gpt2(m.tokens[i])] = i;
  nlohmann::json merges = nlohmann::json::array();
  for (const auto& [a, b] : m.merges)
    merges.push_back(bytes_to_gpt2(m.tokens[static_cast<size_t>(a)]) + " " +
                     bytes_to_gpt2(m.tokens[static_cast<size_t>(b)]));
  const nlohmann::json byte_level = {{"type", "ByteLevel"},
                                     {"add_prefix_space", false},
                                     {"trim_offsets", true},
                                     {"use_regex", m.pattern == Pattern::kGpt2}};
  // GPT-2's pattern is ByteLevel's own regex; the others split first (as Llama 3's file does).
  nlohmann::json pre = byte_level;
  if (m.pattern != Pattern::kGpt2)
    pre = {{"type", "Sequence"},
           {"pretokenizers",
            {{{"type", "Split"},
              {"pattern", {{"Regex", pattern_regex(m.pattern)}}},
              {"behavior", "Isolated"},
              {"invert", false}},
             byte_level}}};
  nlohmann::json decoder = byte_level;
  decoder["use_regex"] = true;
  return {{"version", "1.0"},
          {"truncation", nullptr},
          {"padding", nullptr},
          {"added_tokens", added},
          {"normalizer", nullptr},
          {"pre_tokenizer", pre},
          {"post_processor", nullptr},
          {"decoder", decoder},
          {"model",
           {{"type", "BPE"},
            {"dropout", nullptr},
            {"unk_token", nullptr},
            {"continuing_subword_prefix", nullptr},
            {"end_of_word_suffix", nullptr},
            {"fuse_unk", false},
            {"byte_fallback", false},
            {"ignore_merges", m.whole_token_lookup},
            {"vocab", vocab},
            {"merges", merges}}}};
}

namespace {

// ByteLevel without a prefix space; `regex` is its use_regex.
void check_byte_level(const nlohmann::json& b, const std::string& where, bool regex) {
  SCALELAB_CHECK(b.is_object() && b.value("type", "") == "ByteLevel",
                 "{}: expected a ByteLevel pre-tokenizer", where);
  SCALELAB_CHECK(!b.value("add_prefix_space", false),
                 "{}.add_prefix_space: true is not supported (scalelab adds no prefix space)",
                 where);
  SCALELAB_CHECK(b.value("use_regex", true) == regex, "{}.use_regex: expected {}", where, regex);
}

Pattern hf_pattern(const nlohmann::json& pre, const std::string& where) {
  SCALELAB_CHECK(pre.is_object(), "{}: expected an object (a byte-level pre-tokenizer)", where);
  const std::string type = pre.value("type", "");
  if (type == "ByteLevel") {
    check_byte_level(pre, where, true);
    return Pattern::kGpt2;
  }
  SCALELAB_CHECK(type == "Sequence" && pre.contains("pretokenizers") &&
                     pre["pretokenizers"].is_array() && pre["pretokenizers"].size() == 2,
                 "{}: expected ByteLevel, or a Sequence of a Split and ByteLevel (got type \"{}\")",
                 where, type);
  const nlohmann::json& split = pre["pretokenizers"][0];
  const std::string sw = where + ".pretokenizers[0]";
  SCALELAB_CHECK(split.is_object() && split.value("type", "") == "Split",
                 "{}: expected a Split pre-tokenizer", sw);
  SCALELAB_CHECK(split.value("behavior", "") == "Isolated" && !split.value("invert", false),
                 "{}: expected behavior Isolated, invert false", sw);
  const nlohmann::json pat = split.value("pattern", nlohmann::json());
  SCALELAB_CHECK(pat.is_object() && pat.contains("Regex") && pat["Regex"].is_string(),
                 "{}.pattern: expected {{\"Regex\": …}}", sw);
  const std::string regex = pat["Regex"].get<std::string>();
  const auto p = pattern_of_regex(regex);
  SCALELAB_CHECK(p.has_value(),
                 "{}.pattern.Regex: not one of scalelab's patterns (gpt2, cl100k, o200k, llama3): "
                 "{}",
                 sw, regex);
  check_byte_level(pre["pretokenizers"][1], where + ".pretokenizers[1]", false);
  return *p;
}

}  // namespace

BpeModel load_hf_tokenizer_json(const std::filesystem::path& file) {
  const std::string name = file.string();
  const nlohmann::json j = read_json_unordered(file);
  SCALELAB_CHECK(j.is_object() && j.contains("model") && j["model"].is_object(),
                 "{}: model: missing (not a tokenizer.json)", name);
  const nlohmann::json& model = j["model"];
  const std::string type = model.value("type", "");
  SCALELAB_CHECK(type == "BPE", "{}: model.type: expected BPE, got \"{}\"", name, type);
  SCALELAB_CHECK(!model.value("byte_fallback", false),
                 "{}: model.byte_fallback: true is not supported (byte-level BPE only)", name);
  for (const char* k : {"dropout", "continuing_subword_prefix", "end_of_word_suffix"}) {
    const nlohmann::json v = model.value(k, nlohmann::json());
    SCALELAB_CHECK(v.is_null() || (v.is_string() && v.get<std::string>().empty()),
                   "{}: model.{}: not supported (got {})", name, k, v.dump());
  }
  SCALELAB_CHECK(!j.contains("normalizer") || j["normalizer"].is_null(),
                 "{}: normalizer: not supported (scalelab's tokenizers have none)", name);
  BpeModel m;
  m.pattern = hf_pattern(j.value("pre_tokenizer", nlohmann::json()), name + ": pre_tokenizer");
  m.whole_token_lookup = model.value("ignore_merges", false);
  // Added tokens are special tokens (recognised in text before pre-tokenization).
  std::vector<std::pair<std::string, int64_t>> added;
  if (j.contains("added_tokens") && !j["added_tokens"].is_null()) {
    SCALELAB_CHECK(j["added_tokens"].is_array(), "{}: added_tokens: expected an array", name);
    for (size_t i = 0; i < j["added_tokens"].size(); ++i) {
      const nlohmann::json& a = j["added_tokens"][i];
      SCALELAB_CHECK(a.is_object() && a.contains("id") && a["id"].is_number_integer() &&
                         a.contains("content") && a["content"].is_string() &&
                         !a["content"].get<std::string>().empty(),
                     "{}: added_tokens[{}]: expected an id and a non-empty content", name, i);
      added.emplace_back(a["content"].get<std::string>(), a["id"].get<int64_t>());
    }
  }
  SCALELAB_CHECK(model.contains("vocab") && model["vocab"].is_object() && !model["vocab"].empty(),
                 "{}: model.vocab: expected an object mapping tokens to ids", name);
  int64_t max_id = -1;
  for (const auto& [tok, idv] : model["vocab"].items()) {
    SCALELAB_CHECK(
        idv.is_number_integer() && idv.get<int64_t>() >= 0 && idv.get<int64_t>() < kMaxVocabulary,
        "{}: model.vocab: id of token '{}' is not an integer in [0, {})", name,
        printable_excerpt(tok), kMaxVocabulary);
    max_id = std::max(max_id, idv.get<int64_t>());
  }
  for (const auto& [t, id] : added)
    SCALELAB_CHECK(id >= 0 && id < kMaxVocabulary, "{}: added token '{}' has id {}", name,
                   printable_excerpt(t), id);
  for (const auto& [t, id] : added) max_id = std::max(max_id, id);
  m.tokens.resize(static_cast<size_t>(max_id + 1));
  std::unordered_map<std::string, int32_t> id_of;
  std::vector<char> is_added(m.tokens.size(), 0);
  for (const auto& [t, id] : added) {
    is_added[static_cast<size_t>(id)] = 1;
    m.tokens[static_cast<size_t>(id)] = t;
    m.specials.emplace_back(t, static_cast<int32_t>(id));
  }
  for (const auto& [tok, idv] : model["vocab"].items()) {
    const auto id = static_cast<size_t>(idv.get<int64_t>());
    if (is_added[id]) {
      SCALELAB_CHECK(tok == m.tokens[id], "{}: model.vocab: id {} is '{}' but added token '{}'",
                     name, id, printable_excerpt(tok), printable_excerpt(m.tokens[id]));
      continue;
    }
    std::string bytes =
        gpt2_to_bytes(tok, name + ": model.vocab: token '" + printable_excerpt(tok) + "'");
    SCALELAB_CHECK(m.tokens[id].empty() && !bytes.empty(), "{}: model.vocab: id {} is used twice",
                   name, id);
    m.tokens[id] = bytes;
    id_of.emplace(std::move(bytes), static_cast<int32_t>(id));
  }
  const nlohmann::json merges = model.value("merges", nlohmann::json::array());
  SCALELAB_CHECK(merges.is_array(), "{}: model.merges: expected an array", name);
  for (size_t r = 0; r < merges.size(); ++r) {
    const nlohmann::json& x = merges[r];
    std::string a, b;
    if (x.is_string()) {  // "a b"
      const std::string line = x.get<std::string>();
      const size_t sp = line.find(' ');
      SCALELAB_CHECK(sp != std::string::npos && sp > 0 && sp + 1 < line.size() &&
                         line.find(' ', sp + 1) == std::string::npos,
                     "{}: model.merges[{}]: expected two tokens separated by one space", name, r);
      a = line.substr(0, sp);
      b = line.substr(sp + 1);
    } else {  // ["a", "b"]
      SCALELAB_CHECK(x.is_array() && x.size() == 2 && x[0].is_string() && x[1].is_string(),
                     "{}: model.merges[{}]: expected \"a b\" or [\"a\", \"b\"]", name, r);
      a = x[0].get<std::string>();
      b = x[1].get<std::string>();
    }
    const std::string where = fmt::format("{}: model.merges[{}]", name, r);
    add_merge(m, id_of, gpt2_to_bytes(a, where), gpt2_to_bytes(b, where), where);
  }
  return validated(std::move(m), name);
}

}  // namespace scalelab::tokenizer
