// The counting phase's table: pre-token bytes → occurrences, one per thread.
//
// Performance notes (docs/benchmarks.md, "BPE training"): the phase looks up every pre-token of
// the corpus (~5 M for 20 MB of English) in a table of ~10^5 distinct ones, so the lookup is the
// phase. std::unordered_map<std::string, …> spent ~24% of the whole training in its find (a
// bucket, then a node, then the string, three dependent cache misses) and ~5% in std::_Hash_bytes.
// Here: open addressing with linear probing over one flat slot array (power-of-two capacity, at
// most half full), each slot holding the full 64-bit hash, so a probe compares bytes only on a
// hash match; the bytes of every distinct pre-token are stored once, back to back, in one arena.
// The hash reads 8 bytes at a time (pre-tokens average ~4 bytes) and ends with the murmur3
// finaliser so that the low bits index well.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace scalelab::tokenizer {

class PretokenCounts {
 public:
  PretokenCounts() {
    slots_.resize(kInitialSlots);
    arena_.reserve(kInitialArena);
  }

  // count[s] += n (n ≥ 1).
  void add(std::string_view s, int64_t n = 1) {
    const uint64_t h = hash(s);
    size_t i = h & (slots_.size() - 1);
    for (;; i = (i + 1) & (slots_.size() - 1)) {
      Slot& slot = slots_[i];
      if (slot.count == 0) break;
      if (slot.hash == h && slot.len == s.size() &&
          same_bytes(arena_.data() + slot.offset, s.data(), s.size())) {
        slot.count += n;
        return;
      }
    }
    slots_[i] = {h, n, arena_.size(), s.size()};
    arena_.append(s);
    if (++size_ * 2 > slots_.size()) grow();
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // f(std::string_view bytes, int64_t count) for every distinct pre-token, in table order (not
  // deterministic across inputs: callers that need an order sort).
  template <typename F>
  void for_each(F&& f) const {
    for (const Slot& s : slots_)
      if (s.count != 0) f(std::string_view(arena_.data() + s.offset, s.len), s.count);
  }

  // Adds every count of `other` into this table.
  void absorb(const PretokenCounts& other) {
    other.for_each([&](std::string_view s, int64_t n) { add(s, n); });
  }

  void clear() { *this = PretokenCounts(); }

  static uint64_t hash(std::string_view s) {
    const char* p = s.data();
    size_t n = s.size();
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xC2B2AE3D27D4EB4Full);
    while (n >= 8) {
      uint64_t v;
      std::memcpy(&v, p, 8);
      h = (h ^ v) * 0xFF51AFD7ED558CCDull;
      h ^= h >> 32;
      p += 8;
      n -= 8;
    }
    if (n > 0) {
      uint64_t v = 0;
      std::memcpy(&v, p, n);
      h = (h ^ v) * 0xC4CEB9FE1A85EC53ull;
    }
    // murmur3's fmix64
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDull;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ull;
    h ^= h >> 33;
    return h;
  }

 private:
  struct Slot {
    uint64_t hash = 0;
    int64_t count = 0;  // 0 = empty
    size_t offset = 0;  // into arena_
    size_t len = 0;
  };
  static constexpr size_t kInitialSlots = 1024;
  static constexpr size_t kInitialArena = 1 << 16;

  // A byte loop for the usual short pre-token (a libc memcmp call cost ~7% of training there).
  static bool same_bytes(const char* a, const char* b, size_t n) {
    if (n > 16) return std::memcmp(a, b, n) == 0;
    for (size_t i = 0; i < n; ++i)
      if (a[i] != b[i]) return false;
    return true;
  }

  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    const size_t mask = slots_.size() - 1;
    for (const Slot& s : old) {
      if (s.count == 0) continue;
      size_t i = s.hash & mask;
      while (slots_[i].count != 0) i = (i + 1) & mask;
      slots_[i] = s;
    }
  }

  std::vector<Slot> slots_;
  std::string arena_;
  size_t size_ = 0;
};

}  // namespace scalelab::tokenizer
