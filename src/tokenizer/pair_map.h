// The merge loop's maps, keyed by a symbol pair (left id << 32 | right id).
//
// Performance notes (docs/benchmarks.md, "BPE training"): every merge reads and writes the counts
// of all pairs around the merged one in every word that holds it, so these lookups are most of the
// merge phase. std::unordered_map<uint64_t, …> (a node per entry, a rehash as it grows) spent
// ~16% of the whole training in operator[] and rehashing. Here: open addressing with linear
// probing over one flat array (power-of-two capacity, at most half full), Fibonacci hashing
// (Knuth, TAOCP vol. 3 §6.4: multiply by 2^64/φ, keep the top bits), and deletion by backward
// shift (no tombstones, so probe lengths stay short while counts come and go).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace scalelab::tokenizer {

template <typename V>
class PairMap {
 public:
  // No pair has this key: ids are below 2^31.
  static constexpr uint64_t kEmpty = ~uint64_t{0};

  PairMap() { rehash(kInitialBits); }

  // The value of k, inserted as V{} when absent; .second says whether it was inserted. The
  // reference lives until the next insertion or erasure.
  std::pair<V&, bool> insert(uint64_t k) {
    size_t i = slot_of(k);
    for (; keys_[i] != kEmpty; i = next(i))
      if (keys_[i] == k) return {values_[i], false};
    if ((size_ + 1) * 2 > keys_.size()) {
      rehash(bits_ + 1);
      return insert(k);
    }
    keys_[i] = k;
    values_[i] = V{};
    ++size_;
    return {values_[i], true};
  }
  V& operator[](uint64_t k) { return insert(k).first; }

  V* find(uint64_t k) {
    for (size_t i = slot_of(k); keys_[i] != kEmpty; i = next(i))
      if (keys_[i] == k) return &values_[i];
    return nullptr;
  }

  void erase(uint64_t k) {
    size_t i = slot_of(k);
    for (; keys_[i] != k; i = next(i))
      if (keys_[i] == kEmpty) return;
    // Backward shift: pull later entries of the probe run into the hole when their home slot
    // does not lie cyclically in (hole, j].
    for (size_t j = next(i);; j = next(j)) {
      if (keys_[j] == kEmpty) break;
      const size_t home = slot_of(keys_[j]);
      const bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
      if (stays) continue;
      keys_[i] = keys_[j];
      values_[i] = std::move(values_[j]);
      i = j;
    }
    keys_[i] = kEmpty;
    values_[i] = V{};
    --size_;
  }

  size_t size() const { return size_; }

  // f(uint64_t key, V& value) for every entry, in slot order.
  template <typename F>
  void for_each(F&& f) {
    for (size_t i = 0; i < keys_.size(); ++i)
      if (keys_[i] != kEmpty) f(keys_[i], values_[i]);
  }

 private:
  static constexpr int kInitialBits = 10;

  size_t slot_of(uint64_t k) const {
    return static_cast<size_t>((k * 0x9E3779B97F4A7C15ull) >> (64 - bits_));
  }
  size_t next(size_t i) const { return (i + 1) & (keys_.size() - 1); }

  void rehash(int bits) {
    std::vector<uint64_t> old_keys(size_t{1} << bits, kEmpty);
    std::vector<V> old_values(size_t{1} << bits);
    old_keys.swap(keys_);
    old_values.swap(values_);
    bits_ = bits;
    for (size_t i = 0; i < old_keys.size(); ++i) {
      if (old_keys[i] == kEmpty) continue;
      size_t j = slot_of(old_keys[i]);
      while (keys_[j] != kEmpty) j = next(j);
      keys_[j] = old_keys[i];
      values_[j] = std::move(old_values[i]);
    }
  }

  std::vector<uint64_t> keys_;
  std::vector<V> values_;
  size_t size_ = 0;
  int bits_ = 0;
};

}  // namespace scalelab::tokenizer
