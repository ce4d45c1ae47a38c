// tokenizer.json BPE: encoding and decoding. Parsing lives in bpe_tokenizer_json.cpp.
#include "models/bpe_tokenizer.h"

#include <array>
#include <fstream>
#include <queue>
#include <sstream>

#include "core/error.h"
#include "models/detail/byte_level.h"
#include "models/unicode.h"

namespace repro {
namespace {

// Non-overlapping occurrences of `from` in `s` (leftmost first) replaced by `to`.
std::string replace_all(std::string_view s, std::string_view from, std::string_view to) {
  std::string out;
  size_t pos = 0;
  for (size_t hit; (hit = s.find(from, pos)) != std::string_view::npos; pos = hit + from.size())
    out.append(s.substr(pos, hit - pos)).append(to);
  return out.append(s.substr(pos));
}

std::string read_file_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path.string() + ": cannot open file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

constexpr size_t kCacheMaxEntries = 200000;
constexpr size_t kCacheMaxPieceBytes = 256;

}  // namespace

std::unique_ptr<BpeTokenizer> BpeTokenizer::from_json(std::string_view tokenizer_json, const std::string& origin,
                                                      std::string_view tokenizer_config) {
  std::unique_ptr<BpeTokenizer> t(new BpeTokenizer());
  t->origin_ = origin;
  t->parse(tokenizer_json, tokenizer_config);
  return t;
}

std::unique_ptr<BpeTokenizer> BpeTokenizer::load(const std::filesystem::path& tokenizer_json) {
  const std::string json_text = read_file_text(tokenizer_json);
  std::string config_text;
  const auto config_path = tokenizer_json.parent_path() / "tokenizer_config.json";
  if (std::filesystem::exists(config_path)) config_text = read_file_text(config_path);
  return from_json(json_text, tokenizer_json.string(), config_text);
}

void BpeTokenizer::fail(const std::string& what) const { throw DataError(origin_ + ": " + what); }

void BpeTokenizer::fail_unsupported(const std::string& what) const {
  fail(what + " (with a tokenizer.model beside it, Tokenizer::load uses that instead)");
}

std::optional<int64_t> BpeTokenizer::token_to_id(std::string_view token) const {
  for (const AddedToken& a : added_) {  // few, except for Gemma's 6k; not on a hot path
    if (a.content == token) return a.id;
  }
  auto it = vocab_.find(token);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

int64_t BpeTokenizer::vocab_size() const { return vocab_size_; }

// HF's PreTokenizedString::split per step: each piece is split again, empty pieces dropped.
std::vector<BpeTokenizer::Piece> BpeTokenizer::pre_tokenize_pieces(std::string text, bool at_start) const {
  std::vector<Piece> pieces;
  if (!text.empty()) pieces.push_back({std::move(text), at_start});
  for (const PreStep& step : pre_steps_) {
    std::vector<Piece> next;
    for (Piece& piece : pieces) {
      std::string& t = piece.text;
      std::vector<std::pair<size_t, size_t>> spans;
      switch (step.kind) {
        case PreStep::kSplitRegex:
          spans = bpe::split_pieces(t, step.pattern);
          break;
        case PreStep::kSplitLiteral:
          spans = bpe::split_literal(t, step.literal, step.behavior);
          break;
        case PreStep::kByteLevel:
          if (step.add_prefix_space && t[0] != ' ') t.insert(t.begin(), ' ');
          spans = step.use_regex ? bpe::split_pieces(t, bpe::SplitPattern::kGpt2)
                                 : std::vector<std::pair<size_t, size_t>>{{0, t.size()}};
          break;
        case PreStep::kMetaspace:
          t = replace_all(t, " ", step.literal);
          if (t.compare(0, step.literal.size(), step.literal) != 0 &&
              (step.prepend == PreStep::kAlways || (step.prepend == PreStep::kFirst && piece.at_start)))
            t.insert(0, step.literal);
          spans = step.split ? bpe::split_literal(t, step.literal, bpe::SplitBehavior::kMergedWithNext)
                             : std::vector<std::pair<size_t, size_t>>{{0, t.size()}};
          break;
      }
      for (auto [b, e] : spans) {
        if (b == e) continue;
        std::string part = t.substr(b, e - b);
        if (step.kind == PreStep::kByteLevel) part = byte_level::encode(part);
        next.push_back({std::move(part), piece.at_start && b == 0});
      }
    }
    pieces = std::move(next);
  }
  return pieces;
}

std::vector<std::string> BpeTokenizer::pre_tokenize(std::string_view text) const {
  std::vector<std::string> out;
  for (Piece& p : pre_tokenize_pieces(bpe::normalize(normalizer_, text), true)) out.push_back(std::move(p.text));
  return out;
}

void BpeTokenizer::encode_plain(std::string_view text, bool at_start, std::vector<int64_t>& out) const {
  for (const Piece& piece : pre_tokenize_pieces(std::string(text), at_start)) {
    if (word_start_.empty()) {
      bpe_piece(piece.text, out);
      continue;
    }
    // Cut before each "▁" whose previous character is a vocab token no token joins to a "▁".
    const std::string& t = piece.text;
    size_t begin = 0;
    for (size_t hit = t.find(word_start_, 1); hit != std::string::npos; hit = t.find(word_start_, hit + 1)) {
      size_t prev = hit - 1;
      while (prev > begin && (static_cast<unsigned char>(t[prev]) & 0xC0) == 0x80) --prev;
      const std::string_view before(t.data() + prev, hit - prev);
      const auto it = joins_word_start_.find(before);
      if (prev < begin || it == joins_word_start_.end() || it->second) continue;
      bpe_piece(t.substr(begin, hit - begin), out);
      begin = hit;
    }
    bpe_piece(begin == 0 ? t : t.substr(begin), out);
  }
}

// The cut points of encode_plain. A symbol of BPE is always a vocab token (or a byte / unk
// symbol for a character missing from the vocab), so no merge spans "x▁" when x is itself a
// token and no token contains "x▁". Merges on one side of a cut never touch the other side, so
// their order between the sides (HF's one queue) does not matter.
void BpeTokenizer::find_word_starts() {
  word_start_.clear();
  joins_word_start_.clear();
  const std::string meta = "\xE2\x96\x81";  // U+2581
  for (const PreStep& s : pre_steps_) {
    if (s.kind == PreStep::kByteLevel) return;
  }
  if (!vocab_.count(meta)) return;
  for (const auto& [token, id] : vocab_) {
    if (unicode::decode_utf8(token).size() == 1) joins_word_start_.emplace(token, false);
  }
  for (const auto& [token, id] : vocab_) {
    for (size_t hit = token.find(meta, 1); hit != std::string::npos; hit = token.find(meta, hit + 1)) {
      size_t prev = hit - 1;
      while (prev > 0 && (static_cast<unsigned char>(token[prev]) & 0xC0) == 0x80) --prev;
      joins_word_start_[token.substr(prev, hit - prev)] = true;  // "▁▁" too: runs of spaces stay whole
    }
  }
  word_start_ = meta;
}

// BPE of one pre-tokenized piece. Merges apply in order of (rank, position), the order of HF's
// priority queue, so equal-rank pairs merge left to right.
void BpeTokenizer::bpe_piece(const std::string& piece, std::vector<int64_t>& out) const {
  if (piece.empty()) return;
  if (ignore_merges_) {
    auto it = vocab_.find(piece);
    if (it != vocab_.end()) {
      out.push_back(it->second);
      return;
    }
  }
  const bool cacheable = piece.size() < kCacheMaxPieceBytes;
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    auto it = cache_.find(piece);
    if (it != cache_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }

  // Initial symbols: one per character (byte-fallback tokens or unk for unknown characters).
  std::vector<int64_t> ids;
  bool last_unk = false;
  const std::string_view text(piece);
  for (const unicode::Char& ch : unicode::decode_utf8(piece)) {
    auto it = vocab_.find(text.substr(ch.begin, ch.len));
    if (it != vocab_.end()) {
      ids.push_back(it->second);
      last_unk = false;
      continue;
    }
    if (byte_fallback_) {
      bool all = true;
      for (uint32_t k = 0; k < ch.len; ++k)
        all = all && byte_ids_[static_cast<unsigned char>(piece[ch.begin + k])] >= 0;
      if (all) {
        for (uint32_t k = 0; k < ch.len; ++k) ids.push_back(byte_ids_[static_cast<unsigned char>(piece[ch.begin + k])]);
        last_unk = false;
        continue;
      }
    }
    if (unk_id_) {  // without an unk token HF drops the character; so do we
      if (!(fuse_unk_ && last_unk)) ids.push_back(*unk_id_);
      last_unk = true;
    }
  }

  // The queue holds (rank << 32 | position of the left symbol): smallest rank first, then
  // leftmost, as HF's BinaryHeap of Merge orders them (models/bpe/word.rs). A rank names one
  // pair, so an entry whose pair has changed since is recognized by the rank alone. Compact
  // entries matter: a SentencePiece-style text without pre-tokenizer is one piece of ~10^6 symbols.
  const size_t n = ids.size();
  if (n > static_cast<size_t>(INT32_MAX)) throw DataError(origin_ + ": a piece of text over 2^31 characters");
  std::vector<int32_t> prev(n), next(n);
  std::vector<bool> alive(n, true);
  std::priority_queue<uint64_t, std::vector<uint64_t>, std::greater<uint64_t>> queue;
  auto push = [&](size_t pos, size_t right) {
    if (const auto* m = merges_.find(ids[pos], ids[right]))
      queue.push((static_cast<uint64_t>(static_cast<uint32_t>(m->rank)) << 32) | pos);
  };
  for (size_t i = 0; i < n; ++i) {
    prev[i] = static_cast<int32_t>(i) - 1;
    next[i] = i + 1 < n ? static_cast<int32_t>(i + 1) : -1;
    if (i + 1 < n) push(i, i + 1);
  }
  while (!queue.empty()) {
    const uint64_t top = queue.top();
    queue.pop();
    const auto pos = static_cast<size_t>(top & 0xFFFFFFFFu);
    if (!alive[pos] || next[pos] < 0) continue;
    const auto right = static_cast<size_t>(next[pos]);
    const auto* m = merges_.find(ids[pos], ids[right]);
    if (!m || static_cast<uint32_t>(m->rank) != (top >> 32)) continue;  // a stale entry
    ids[pos] = m->merged;
    alive[right] = false;
    next[pos] = next[right];
    if (next[right] >= 0) prev[static_cast<size_t>(next[right])] = static_cast<int32_t>(pos);
    if (prev[pos] >= 0) push(static_cast<size_t>(prev[pos]), pos);
    if (next[pos] >= 0) push(pos, static_cast<size_t>(next[pos]));
  }
  std::vector<int64_t> result;
  for (size_t i = 0; i < n; ++i) {
    if (alive[i]) result.push_back(ids[i]);
  }
  out.insert(out.end(), result.begin(), result.end());
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (cache_.size() >= kCacheMaxEntries) cache_.clear();
    cache_.emplace(piece, std::move(result));
  }
}

std::vector<int64_t> BpeTokenizer::encode(std::string_view text, bool add_bos) const {
  std::vector<int64_t> out;
  const bool templated = add_bos && add_bos_token_.value_or(true);
  if (templated) {
    if (!template_prefix_.empty() || !template_suffix_.empty()) {
      out = template_prefix_;
    } else if (add_bos_token_.value_or(false) && bos_id_) {
      out.push_back(*bos_id_);
    }
  }
  for (const auto& raw : raw_matcher_.split(text)) {
    if (raw.token) {
      out.push_back(raw.token->id);
      continue;
    }
    const std::string normalized = bpe::normalize(normalizer_, text.substr(raw.begin, raw.end - raw.begin));
    for (const auto& seg : normalized_matcher_.split(normalized)) {
      if (seg.token) {
        out.push_back(seg.token->id);
      } else {
        encode_plain(std::string_view(normalized).substr(seg.begin, seg.end - seg.begin),
                     raw.begin == 0 && seg.begin == 0, out);
      }
    }
  }
  if (templated) out.insert(out.end(), template_suffix_.begin(), template_suffix_.end());
  return out;
}

std::string BpeTokenizer::decode(const std::vector<int64_t>& ids) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int64_t id : ids) {
    if (auto a = added_by_id_.find(id); a != added_by_id_.end()) {
      tokens.push_back(added_decoded_[a->second]);
    } else if (id >= 0 && static_cast<size_t>(id) < id_to_token_.size() && id_to_token_[static_cast<size_t>(id)]) {
      tokens.push_back(*id_to_token_[static_cast<size_t>(id)]);
    }  // an id outside the vocabulary decodes to nothing, as in HF
  }
  return bpe::decode_tokens(decoder_, std::move(tokens));
}

}  // namespace repro
