// `scalelab tokenizer train|encode|decode|stats|export-hf`: byte-level BPE on one of the
// pre-tokenizer patterns (gpt2, cl100k, o200k, llama3); reads native, GPT-2, tiktoken and
// tokenizer.json files.
#include <fmt/format.h>

#include <algorithm>
#include <iostream>
#include <memory>

#include "commands.h"
#include "common/error.h"
#include "common/file_util.h"
#include "common/format.h"
#include "common/log.h"
#include "common/mmap_file.h"
#include "config_flags.h"
#include "tokenizer/bpe_trainer.h"
#include "tokenizer/file_encoder.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"
#include "tokenizer/vocab_io.h"

namespace scalelab::app {

namespace {

using namespace tokenizer;

struct TokenizerCliOptions {
  // train
  std::vector<std::string> inputs;
  ConfigFlags<BpeTrainerOptions> train;  // bpe_trainer_options_fields()
  std::string out;
  std::string invalid_utf8 = "error";  // encode
  // encode / decode / stats / export
  std::string dir;
  std::string input;
  EncodeFileOptions encode;
  std::vector<int64_t> ids;
  bool quiet = false;
  bool json = false;
};

std::unique_ptr<ProgressBar> bar(bool quiet, const char* desc, ProgressOptions o) {
  if (quiet || !log::enabled(log::Level::kInfo)) return nullptr;
  return std::make_unique<ProgressBar>(desc, 0, std::move(o));
}

Tokenizer load(const std::string& dir) { return Tokenizer(load_tokenizer_dir(dir)); }

void run_train(const TokenizerCliOptions& o) {
  BpeTrainerOptions t;
  o.train.apply(t);
  t.validate();
  ensure_writable_directory(o.out);  // fail before spending time training
  std::vector<std::filesystem::path> inputs(o.inputs.begin(), o.inputs.end());
  auto bytes = bar(o.quiet, "pre-tokenize", {.unit = "B", .scale_units = true});
  auto merges = bar(o.quiet, "merges", {.unit = "merges"});
  BpeTrainingStats stats;
  BpeModel m = train_bpe(inputs, t, bytes.get(), merges.get(), &stats);
  if (merges) merges->close();
  save_tokenizer_dir(m, o.out);
  write_text_file_atomic(std::filesystem::path(o.out) / "tokenizer.json",
                         to_hf_tokenizer_json(m).dump() + "\n");
  // The resolved options (every field of the table), the inputs and what training measured.
  json::Json cfg = bpe_trainer_options_fields().to_json(t);
  cfg["inputs"] = o.inputs;
  cfg["stats"] = {{"bytes", stats.bytes},
                  {"pretokens", stats.pretokens},
                  {"distinct_pretokens", stats.distinct_pretokens},
                  {"merges", stats.merges},
                  {"count_seconds", stats.count_seconds},
                  {"merge_seconds", stats.merge_seconds}};
  json::write_file(std::filesystem::path(o.out) / "train_config.json", cfg);
  if (static_cast<int64_t>(m.tokens.size()) < t.vocab_size)
    SCALELAB_LOG_WARN(
        "the corpus ran out of pairs to merge: vocabulary has {} tokens, fewer than the {} asked "
        "for",
        m.tokens.size(), t.vocab_size);
  std::cout << fmt::format(
      "trained {} tokens ({} merges, {} special) on {} ({} pre-tokens, {} distinct) in {:.2f} s + "
      "{:.2f} s\n"
      "wrote {}/{{vocab.json, merges.txt, tokenizer_config.json, tokenizer.json, "
      "train_config.json}}\n",
      m.tokens.size(), m.merges.size(), m.specials.size(),
      format_si(static_cast<double>(stats.bytes)) + "B",
      format_int(static_cast<int64_t>(stats.pretokens)),
      format_int(static_cast<int64_t>(stats.distinct_pretokens)), stats.count_seconds,
      stats.merge_seconds, o.out);
}

void run_encode(const TokenizerCliOptions& o) {
  Tokenizer tok = load(o.dir);
  EncodeFileOptions e = o.encode;
  e.invalid_utf8 = parse_invalid_utf8(o.invalid_utf8);
  auto p = bar(o.quiet, "encode", {.unit = "B", .scale_units = true});
  EncodeFileResult r = encode_file(tok, o.input, o.out, e, p.get());
  if (p) p->close();
  std::cout << fmt::format(
      "{} tokens ({}) from {} bytes: {:.3f} bytes/token, {:.1f} MB/s; wrote {} and {}.json\n",
      format_int(static_cast<int64_t>(r.tokens)), r.dtype,
      format_int(static_cast<int64_t>(r.bytes)),
      static_cast<double>(r.bytes) / static_cast<double>(std::max<uint64_t>(r.tokens, 1)),
      static_cast<double>(r.bytes) / 1e6 / r.seconds, o.out, o.out);
}

void run_decode(const TokenizerCliOptions& o) {
  Tokenizer tok = load(o.dir);
  std::vector<int32_t> ids;
  if (!o.input.empty()) {
    ids = read_token_file(o.input, tok.vocab_size());
  } else {
    SCALELAB_CHECK(!o.ids.empty(), "decode: give --input FILE.bin or --ids");
    for (int64_t v : o.ids) {
      SCALELAB_CHECK(v >= 0 && v < static_cast<int64_t>(tok.vocab_size()),
                     "--ids: token id {} is outside the vocabulary (size {})", v, tok.vocab_size());
      ids.push_back(static_cast<int32_t>(v));
    }
  }
  std::string text = tok.decode(ids);
  if (o.out.empty() || o.out == "-")
    std::cout << text;
  else
    write_text_file_atomic(o.out, text);
}

void run_stats(const TokenizerCliOptions& o) {
  Tokenizer tok = load(o.dir);
  const BpeModel& m = tok.model();
  std::vector<size_t> order(m.tokens.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return m.tokens[a].size() > m.tokens[b].size(); });
  json::Json j{{"vocab_size", m.tokens.size()},
               {"merges", m.merges.size()},
               {"pattern", fields::enum_name(m.pattern)},
               {"hash", m.hash()}};
  json::Json sp = json::Json::array();
  for (const auto& s : m.specials) sp.push_back(s.first);
  j["special_tokens"] = sp;
  json::Json longest = json::Json::array();
  for (size_t k = 0; k < std::min<size_t>(10, order.size()); ++k)
    longest.push_back({{"id", order[k]},
                       {"bytes", m.tokens[order[k]].size()},
                       {"text", replace_invalid_utf8(m.tokens[order[k]])}});
  j["longest_tokens"] = longest;
  if (!o.input.empty()) {
    MmapFile f(o.input);
    std::string_view text = f.view();
    size_t bad = find_invalid_utf8(text);
    SCALELAB_CHECK(bad == std::string_view::npos, "{}: invalid UTF-8 at byte offset {}", o.input,
                   bad);
    std::vector<int32_t> ids = tok.encode(text);
    j["file"] = {{"path", o.input},
                 {"bytes", text.size()},
                 {"tokens", ids.size()},
                 {"bytes_per_token", static_cast<double>(text.size()) /
                                         static_cast<double>(std::max<size_t>(1, ids.size()))}};
  }
  if (o.json) {
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::cout << fmt::format("vocab size {} ({} merges), pattern {}, special tokens: {}, hash {}\n",
                           m.tokens.size(), m.merges.size(), fields::enum_name(m.pattern),
                           sp.dump(), m.hash());
  if (j.contains("file"))
    std::cout << fmt::format("{}: {} bytes → {} tokens, {:.3f} bytes/token\n", o.input,
                             format_int(j["file"]["bytes"].get<int64_t>()),
                             format_int(j["file"]["tokens"].get<int64_t>()),
                             j["file"]["bytes_per_token"].get<double>());
  TextTable t({"id", "bytes", "token"});
  for (const auto& x : longest)
    t.add_row({std::to_string(x["id"].get<size_t>()), std::to_string(x["bytes"].get<size_t>()),
               json::Json(x["text"]).dump()});
  std::cout << "longest tokens:\n" << t.str();
}

}  // namespace

Command setup_tokenizer(CLI::App& app) {
  auto* sub =
      app.add_subcommand("tokenizer", "Byte-level BPE tokenizer: train, encode, decode, stats");
  sub->require_subcommand(1);
  auto o = std::make_shared<TokenizerCliOptions>();

  auto* train = sub->add_subcommand("train", "Train a byte-level BPE tokenizer on text files");
  train->add_option("--input", o->inputs, "Training text file(s)")->required();
  // Every field of the trainer's table (tokenizer/bpe_trainer.cpp).
  o->train.add_table(*train, bpe_trainer_options_fields());
  o->train.bind(train->add_flag("--no-special-tokens")->description("Train without special tokens"),
                [](BpeTrainerOptions& t) { t.special_tokens.clear(); });
  train->add_option("--out", o->out, "Output directory")->required();
  add_bool_flag(*train, "--quiet", o->quiet, "No progress bars");

  auto* enc = sub->add_subcommand(
      "encode", "Encode a text file into token ids (uint16/uint32 + JSON sidecar)");
  enc->add_option("--tokenizer", o->dir,
                  "Tokenizer: a directory (from `tokenizer train`, GPT-2's vocab.json + "
                  "merges.txt, or a tokenizer.json), a tokenizer.json, or a .tiktoken file")
      ->required();
  enc->add_option("--input", o->input, "Text file")->required();
  enc->add_option("--out", o->out,
                  "Output token file (FILE.bin; FILE.bin.json is written beside it)")
      ->required();
  enc->add_option("--threads", o->encode.threads, "Threads (0 = all cores)")->capture_default_str();
  enc->add_option("--dtype", o->encode.dtype, "auto | uint16 | uint32")
      ->check(CLI::IsMember({"auto", "uint16", "uint32"}))
      ->capture_default_str();
  enc->add_option("--invalid-utf8", o->invalid_utf8, "error | replace")
      ->check(CLI::IsMember(fields::enum_choices<tokenizer::InvalidUtf8>()))
      ->capture_default_str();
  add_bool_flag(*enc, "--ordinary", o->encode.ordinary,
                "Special tokens' text is ordinary text (tiktoken's encode_ordinary); default: "
                "recognised as the special tokens");
  add_bool_flag(*enc, "--quiet", o->quiet, "No progress bar");

  auto* dec = sub->add_subcommand("decode", "Decode token ids back to text");
  dec->add_option("--tokenizer", o->dir, "Tokenizer directory")->required();
  dec->add_option("--input", o->input, "Token file written by `tokenizer encode`");
  dec->add_option("--ids", o->ids, "Or: ids, comma-separated")->delimiter(',');
  dec->add_option("--out", o->out, "Output text file (default stdout)");

  auto* stats =
      sub->add_subcommand("stats", "Vocabulary size, longest tokens, bytes per token on a file");
  stats->add_option("--tokenizer", o->dir, "Tokenizer directory")->required();
  stats->add_option("--input", o->input, "Text file to measure bytes per token on");
  add_bool_flag(*stats, "--json", o->json, "Print JSON");

  auto* hf = sub->add_subcommand("export-hf", "Write a HuggingFace tokenizer.json");
  hf->add_option("--tokenizer", o->dir, "Tokenizer directory")->required();
  hf->add_option("--out", o->out, "Output tokenizer.json")->required();

  return {sub, [=] {
            if (train->parsed()) return run_train(*o);
            if (enc->parsed()) return run_encode(*o);
            if (dec->parsed()) return run_decode(*o);
            if (stats->parsed()) return run_stats(*o);
            write_text_file_atomic(o->out,
                                   to_hf_tokenizer_json(load_tokenizer_dir(o->dir)).dump() + "\n");
            std::cout << fmt::format("wrote {}\n", o->out);
          }};
}

}  // namespace scalelab::app
