#pragma once
// The BPE merge table: (left id, right id) -> (rank, merged id), an open-addressing hash table.
// Looked up for every adjacent pair of every piece BPE encodes, and filled with up to ~500k
// merges (Gemma-3) at load time: a node-based std::unordered_map spends most of both in cache
// misses and allocations. No libtorch.

#include <cstdint>
#include <vector>

namespace repro::bpe {

class MergeTable {
 public:
  struct Merge {
    int32_t rank;
    int32_t merged;  // id of the merged token
  };

  // Room for `n` merges without growing.
  void reserve(size_t n) {
    size_t cap = 16;
    while (cap < 2 * n) cap *= 2;
    if (cap > slots_.size()) rehash(cap);
  }

  // Sets the merge of (left, right); a pair set twice keeps the last value (HF keeps the last rank).
  void set(int32_t left, int32_t right, Merge m) {
    if (2 * (size_ + 1) > slots_.size()) rehash(slots_.empty() ? 16 : 2 * slots_.size());
    Slot& s = probe(key(left, right));
    if (s.key == kEmpty) ++size_;
    s = {key(left, right), m};
  }

  // The merge of (left, right), or nullptr.
  const Merge* find(int64_t left, int64_t right) const {
    if (slots_.empty()) return nullptr;
    const Slot& s = const_cast<MergeTable*>(this)->probe(key(static_cast<int32_t>(left), static_cast<int32_t>(right)));
    return s.key == kEmpty ? nullptr : &s.merge;
  }

  size_t size() const { return size_; }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  struct Slot {
    uint64_t key = kEmpty;
    Merge merge{};
  };

  static uint64_t key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  }

  // The slot holding `k`, or the empty slot where it would go (linear probing).
  Slot& probe(uint64_t k) {
    const size_t mask = slots_.size() - 1;
    size_t i = static_cast<size_t>((k * 0x9E3779B97F4A7C15ull) >> 20) & mask;
    while (slots_[i].key != kEmpty && slots_[i].key != k) i = (i + 1) & mask;
    return slots_[i];
  }

  void rehash(size_t cap) {
    std::vector<Slot> old(cap);
    old.swap(slots_);
    for (const Slot& s : old) {
      if (s.key != kEmpty) probe(s.key) = s;
    }
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
};

}  // namespace repro::bpe
