// BPE trainer. Hot parts: pre-tokenize+count (phase 1) and the merge loop (phase 2). Notes:
// - Counting uses one flat open-addressing table per thread (pretoken_counts.h, with its own
//   performance notes): each pre-token is hashed once per occurrence and its bytes are copied only
//   when first seen.
// - Words are stored once (unique pre-tokens) with their counts; a merge touches only the words
// listed
//   under its pair, rewrites each of them once, and applies the pair-count deltas (old pairs out,
//   new in).
// - The heap holds (count, pair) snapshots, and every live pair has an entry at least as high as
// its
//   count: a rise pushes a new entry; a fall pushes nothing until the old, higher entry reaches the
//   top, which then pushes the current count (lazy invalidation, half the pushes of pushing every
//   change). A popped entry matching its pair's count is the best pair.
#include "tokenizer/bpe_trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <mutex>
#include <queue>
#include <string>

#include "common/error.h"
#include "common/mmap_file.h"
#include "common/thread_pool.h"
#include "tokenizer/chunker.h"
#include "tokenizer/pair_map.h"
#include "tokenizer/pretoken_counts.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/unicode.h"

namespace scalelab::tokenizer {

InvalidUtf8 parse_invalid_utf8(std::string_view s) {
  return fields::parse_enum<InvalidUtf8>(s, "invalid-utf8");
}

const fields::Table<BpeTrainerOptions>& bpe_trainer_options_fields() {
  using fields::Opt;
  using fields::Range;
  using O = BpeTrainerOptions;
  static const auto t =
      fields::Table<O>()
          .add("vocab_size", &O::vocab_size,
               "Vocabulary size: at least 256 bytes + the special tokens; the rest are merges")
          .add("special_tokens", &O::special_tokens, "Special token(s), never merged across",
               Opt::named("--special-token"))
          .add("pattern", &O::pattern,
               "Pre-tokenizer pattern: gpt2, cl100k (GPT-4's), o200k (GPT-4o's) or llama3 (the "
               "regex of cl100k); docs/tokenizer.md")
          .add("threads", &O::threads, "Threads (0 = all cores)", Range::at_least(0))
          .add("invalid_utf8", &O::invalid_utf8,
               "Invalid UTF-8 in the input: error, or replace (invalid sequences become U+FFFD)")
          .add("chunk_bytes", &O::chunk_bytes,
               "Target chunk size of the counting phase (bytes; chunks end at a document or line "
               "boundary)",
               Range::at_least(1));
  return t;
}

void BpeTrainerOptions::validate() const {
  bpe_trainer_options_fields().check(*this);
  const auto min = static_cast<int64_t>(256 + special_tokens.size());
  SCALELAB_CHECK(vocab_size >= min,
                 "vocab_size: {} is smaller than 256 bytes + {} special tokens = {}", vocab_size,
                 special_tokens.size(), min);
  SCALELAB_CHECK(vocab_size <= (int64_t{1} << 31) - 1, "vocab_size: {} is too large", vocab_size);
  for (const auto& s : special_tokens)
    SCALELAB_CHECK(!s.empty(), "special tokens must not be empty");
  SCALELAB_CHECK(chunk_bytes > 0, "chunk size must be positive");
}

namespace {

using CountMap = PretokenCounts;

void count_text(std::string_view text, const SpecialSplitter& sp, Pattern pattern, CountMap& counts,
                uint64_t& pretokens) {
  auto count_segment = [&](std::string_view seg) {
    for_each_pretoken(pattern, seg, [&](std::string_view p) {
      ++pretokens;
      counts.add(p);
    });
  };
  sp.split(text, count_segment, [](size_t) {});
}

// Counts one input text (a mapping or a buffer) on the pool; `release` drops a chunk's pages.
void count_parallel(std::string_view text, std::string_view source, const BpeTrainerOptions& o,
                    const SpecialSplitter& sp, ThreadPool& pool, std::vector<CountMap>& maps,
                    std::vector<uint64_t>& pretokens, ProgressBar* progress,
                    const MmapFile* mapping) {
  const std::vector<Chunk> chunks = plan_chunks(text, o.chunk_bytes, sp);
  const size_t T = maps.size();
  std::mutex err_mutex;
  pool.parallel_for(
      T,
      [&](size_t tb, size_t te) {
        for (size_t t = tb; t < te; ++t) {
          for (size_t c = t; c < chunks.size(); c += T) {
            std::string_view piece = text.substr(chunks[c].begin, chunks[c].end - chunks[c].begin);
            size_t bad = find_invalid_utf8(piece);
            if (bad != std::string_view::npos) {
              SCALELAB_CHECK(
                  o.invalid_utf8 == InvalidUtf8::kReplace,
                  "{}: invalid UTF-8 at byte offset {} (use --invalid-utf8 replace to proceed)",
                  source, chunks[c].begin + bad);
              std::string fixed = replace_invalid_utf8(piece);
              count_text(fixed, sp, o.pattern, maps[t], pretokens[t]);
            } else {
              count_text(piece, sp, o.pattern, maps[t], pretokens[t]);
            }
            if (mapping != nullptr) mapping->release(chunks[c].begin, piece.size());
            if (progress != nullptr) progress->update(static_cast<int64_t>(piece.size()));
          }
        }
      },
      1);
}

// Heap entry: higher count first; ties → lexicographically greater (left bytes, right bytes).
struct HeapEntry {
  int64_t count;
  int32_t a, b;
};

class MergeState {
 public:
  MergeState(BpeModel& m) : model_(m) {}

  void add_word(std::string_view bytes, int64_t count, const std::vector<int32_t>& byte_id) {
    offsets_.push_back(symbols_.size());
    for (unsigned char c : bytes) symbols_.push_back(byte_id[c]);
    lengths_.push_back(static_cast<uint32_t>(bytes.size()));
    counts_.push_back(count);
  }

  void init_pairs() {
    for (size_t w = 0; w < counts_.size(); ++w) {
      const int32_t* s = symbols_.data() + offsets_[w];
      for (uint32_t i = 0; i + 1 < lengths_[w]; ++i) {
        uint64_t k = key(s[i], s[i + 1]);
        pair_count_[k] += counts_[w];
        auto& where = pair_words_[k];
        if (where.empty() || where.back() != static_cast<uint32_t>(w))
          where.push_back(static_cast<uint32_t>(w));
      }
    }
    pair_count_.for_each([&](uint64_t k, int64_t c) { push(k, c); });
    stamp_.assign(counts_.size(), 0);
  }

  // Performs up to n merges; returns how many were done (fewer when no pair is left).
  size_t merge(size_t n, ProgressBar* progress) {
    size_t done = 0;
    std::vector<int32_t> rewritten;
    // This merge's pair-count changes, and the pairs it touched in first-touch order.
    PairMap<int64_t> delta;
    std::vector<uint64_t> touched;
    auto add_delta = [&](uint64_t k, int64_t d) {
      auto [v, inserted] = delta.insert(k);
      if (inserted) touched.push_back(k);
      v += d;
    };
    for (; done < n; ++done) {
      // Pop the best live pair.
      HeapEntry top{};
      bool found = false;
      while (!heap_.empty()) {
        top = heap_.top();
        heap_.pop();
        const int64_t* c = pair_count_.find(key(top.a, top.b));
        if (c == nullptr) continue;  // the pair is gone
        if (*c == top.count) {
          found = true;
          break;
        }
        // A count that fell since this entry was pushed is pushed again now, when it reaches the
        // top (a count that rose was pushed when it rose; this entry is then just stale).
        if (*c < top.count) push(key(top.a, top.b), *c);
      }
      if (!found) break;
      const int32_t a = top.a, b = top.b;
      const auto id = static_cast<int32_t>(model_.tokens.size());
      model_.tokens.push_back(model_.tokens[static_cast<size_t>(a)] +
                              model_.tokens[static_cast<size_t>(b)]);
      model_.merges.emplace_back(a, b);
      model_.merge_result.push_back(id);
      ++merge_no_;
      const uint64_t ab = key(a, b);
      std::vector<uint32_t> words = std::move(pair_words_[ab]);
      pair_words_.erase(ab);
      for (uint32_t w : words) {
        if (stamp_[w] == merge_no_) continue;  // listed twice
        stamp_[w] = merge_no_;
        int32_t* s = symbols_.data() + offsets_[w];
        const uint32_t len = lengths_[w];
        const int64_t cnt = counts_[w];
        bool any = false;
        for (uint32_t i = 0; i + 1 < len; ++i)
          if (s[i] == a && s[i + 1] == b) {
            any = true;
            break;
          }
        if (!any) continue;  // stale listing: an earlier merge already consumed the pair here
        for (uint32_t i = 0; i + 1 < len; ++i) add_delta(key(s[i], s[i + 1]), -cnt);
        rewritten.clear();
        for (uint32_t i = 0; i < len;) {
          if (i + 1 < len && s[i] == a && s[i + 1] == b) {
            rewritten.push_back(id);
            i += 2;
          } else {
            rewritten.push_back(s[i]);
            ++i;
          }
        }
        const auto nl = static_cast<uint32_t>(rewritten.size());
        std::copy(rewritten.begin(), rewritten.end(), s);
        lengths_[w] = nl;
        for (uint32_t i = 0; i + 1 < nl; ++i) {
          uint64_t k = key(s[i], s[i + 1]);
          add_delta(k, cnt);
          if (s[i] == id || s[i + 1] == id) {
            auto& where = pair_words_[k];
            if (where.empty() || where.back() != w) where.push_back(w);
          }
        }
      }
      // Applied in first-touch order (deterministic), then the delta map is emptied key by key.
      for (uint64_t k : touched) {
        const int64_t d = *delta.find(k);
        if (d == 0) continue;
        int64_t& c = pair_count_[k];
        c += d;
        if (c <= 0) {
          pair_count_.erase(k);
        } else if (d > 0) {
          push(k, c);  // a fall is pushed lazily, when its stale entry reaches the top
        }
      }
      for (uint64_t k : touched) delta.erase(k);
      touched.clear();
      if (progress != nullptr) progress->update(1);
    }
    return done;
  }

 private:
  static uint64_t key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }
  void push(uint64_t k, int64_t c) {
    heap_.push({c, static_cast<int32_t>(k >> 32), static_cast<int32_t>(k & 0xFFFFFFFFu)});
  }

  struct Less {
    const BpeModel* m;
    bool operator()(const HeapEntry& x, const HeapEntry& y) const {
      if (x.count != y.count) return x.count < y.count;
      const std::string& xa = m->tokens[static_cast<size_t>(x.a)];
      const std::string& ya = m->tokens[static_cast<size_t>(y.a)];
      if (int c = xa.compare(ya); c != 0) return c < 0;
      return m->tokens[static_cast<size_t>(x.b)] < m->tokens[static_cast<size_t>(y.b)];
    }
  };

  BpeModel& model_;
  std::vector<int32_t> symbols_;
  std::vector<size_t> offsets_;
  std::vector<uint32_t> lengths_;
  std::vector<int64_t> counts_;
  std::vector<uint32_t> stamp_;
  uint32_t merge_no_ = 0;
  PairMap<int64_t> pair_count_;
  PairMap<std::vector<uint32_t>> pair_words_;
  std::priority_queue<HeapEntry, std::vector<HeapEntry>, Less> heap_{Less{&model_}};
};

BpeModel merge_phase(std::vector<CountMap>& maps, const BpeTrainerOptions& o,
                     ProgressBar* merges_progress, BpeTrainingStats* stats) {
  // Merge per-thread counts into the first map.
  CountMap& all = maps.front();
  for (size_t t = 1; t < maps.size(); ++t) {
    all.absorb(maps[t]);
    maps[t].clear();
  }
  BpeModel m;
  m.pattern = o.pattern;
  for (const auto& s : o.special_tokens) {
    if (std::any_of(m.specials.begin(), m.specials.end(),
                    [&](const auto& p) { return p.first == s; }))
      continue;
    m.specials.emplace_back(s, static_cast<int32_t>(m.tokens.size()));
    m.tokens.push_back(s);
  }
  std::vector<int32_t> byte_id(256);
  for (int b = 0; b < 256; ++b) {
    byte_id[static_cast<size_t>(b)] = static_cast<int32_t>(m.tokens.size());
    m.tokens.emplace_back(1, static_cast<char>(b));
  }
  const auto t0 = std::chrono::steady_clock::now();
  MergeState st(m);
  // Deterministic word order (hash-map iteration order is not): sort by bytes.
  std::vector<std::pair<std::string_view, int64_t>> words;
  words.reserve(all.size());
  all.for_each([&](std::string_view w, int64_t n) { words.emplace_back(w, n); });
  std::sort(words.begin(), words.end(),
            [](const auto& x, const auto& y) { return x.first < y.first; });
  for (const auto& [w, n] : words) st.add_word(w, n, byte_id);
  if (stats != nullptr) stats->distinct_pretokens = all.size();
  all.clear();
  st.init_pairs();
  const auto n_merges = static_cast<size_t>(o.vocab_size) - m.tokens.size();
  if (merges_progress != nullptr) merges_progress->set_total(static_cast<int64_t>(n_merges));
  size_t done = st.merge(n_merges, merges_progress);
  if (stats != nullptr) {
    stats->merges = done;
    stats->merge_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  return m;
}

}  // namespace

BpeModel train_bpe(const std::vector<std::filesystem::path>& inputs, const BpeTrainerOptions& o,
                   ProgressBar* bytes_progress, ProgressBar* merges_progress,
                   BpeTrainingStats* stats) {
  o.validate();
  SCALELAB_CHECK(!inputs.empty(), "no input files given");
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<MmapFile> files;
  uint64_t total = 0;
  for (const auto& p : inputs) {
    files.emplace_back(p);
    SCALELAB_CHECK(!files.back().empty(), "{}: file is empty", p.string());
    total += files.back().size();
  }
  if (bytes_progress != nullptr) bytes_progress->set_total(static_cast<int64_t>(total));
  ThreadPool pool(o.threads);
  std::vector<CountMap> maps(pool.size());
  std::vector<uint64_t> pretokens(pool.size(), 0);
  SpecialSplitter sp(o.special_tokens);
  for (const auto& f : files)
    count_parallel(f.view(), f.path().string(), o, sp, pool, maps, pretokens, bytes_progress, &f);
  if (bytes_progress != nullptr) bytes_progress->close();
  if (stats != nullptr) {
    stats->bytes = total;
    for (auto n : pretokens) stats->pretokens += n;
    stats->count_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  bool any = false;
  for (const auto& m : maps) any |= !m.empty();
  SCALELAB_CHECK(any, "{}: no text to train on (the input holds only special tokens)",
                 inputs.front().string());
  return merge_phase(maps, o, merges_progress, stats);
}

BpeModel train_bpe_on_text(std::string_view text, const BpeTrainerOptions& o,
                           std::string_view source, BpeTrainingStats* stats) {
  o.validate();
  SCALELAB_CHECK(!text.empty(), "{}: text is empty", source);
  ThreadPool pool(o.threads);
  std::vector<CountMap> maps(pool.size());
  std::vector<uint64_t> pretokens(pool.size(), 0);
  SpecialSplitter sp(o.special_tokens);
  count_parallel(text, source, o, sp, pool, maps, pretokens, nullptr, nullptr);
  bool any = false;
  for (const auto& m : maps) any |= !m.empty();
  SCALELAB_CHECK(any, "{}: no text to train on (the input holds only special tokens)", source);
  return merge_phase(maps, o, nullptr, stats);
}

}  // namespace scalelab::tokenizer
