// Byte-level BPE encoding and decoding. Parsing of tokenizer.json lives in bpe_tokenizer_json.cpp.
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

bool is_ascii_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

bool is_word_byte(unsigned char c) {
  return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c == '_' || c >= 0x80;
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

std::optional<int64_t> BpeTokenizer::token_to_id(std::string_view token) const {
  for (const AddedToken& a : added_) {
    if (a.content == token) return a.id;
  }
  auto it = vocab_.find(token);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

int64_t BpeTokenizer::vocab_size() const { return vocab_size_; }

// Cuts `text` at added tokens (leftmost-longest among those of this pass), applying lstrip /
// rstrip / single_word as HF does (ASCII whitespace and word characters).
std::vector<BpeTokenizer::Segment> BpeTokenizer::split_added(std::string_view text, bool normalized_pass) const {
  std::vector<Segment> out;
  const auto& by_byte = added_by_first_byte_[normalized_pass ? 1 : 0];
  size_t seg_start = 0;
  for (size_t pos = 0; pos < text.size();) {
    const AddedToken* hit = nullptr;
    if (!by_byte.empty()) {
      for (size_t idx : by_byte[static_cast<unsigned char>(text[pos])]) {
        const AddedToken& tok = added_[idx];
        if (text.substr(pos, tok.content.size()) != tok.content) continue;
        if (tok.single_word) {
          const size_t end = pos + tok.content.size();
          const bool left_ok = pos == 0 || !is_word_byte(static_cast<unsigned char>(text[pos - 1]));
          const bool right_ok = end == text.size() || !is_word_byte(static_cast<unsigned char>(text[end]));
          if (!left_ok || !right_ok) continue;
        }
        hit = &tok;
        break;
      }
    }
    if (!hit) {
      ++pos;
      continue;
    }
    size_t start = pos, end = pos + hit->content.size();
    if (hit->lstrip) {
      while (start > seg_start && is_ascii_space(text[start - 1])) --start;
    }
    if (hit->rstrip) {
      while (end < text.size() && is_ascii_space(text[end])) ++end;
    }
    if (start > seg_start) out.push_back({text.substr(seg_start, start - seg_start), nullptr});
    out.push_back({text.substr(start, end - start), hit});
    seg_start = pos = end;
  }
  if (seg_start < text.size()) out.push_back({text.substr(seg_start), nullptr});
  return out;
}

std::vector<std::string> BpeTokenizer::pre_tokenize(std::string_view text) const {
  std::vector<std::string> pieces{std::string(text)};
  for (const PreStep& step : pre_steps_) {
    std::vector<std::string> next;
    for (std::string& piece : pieces) {
      if (step.kind == PreStep::kByteLevel && step.add_prefix_space && (piece.empty() || piece[0] != ' '))
        piece.insert(piece.begin(), ' ');
      std::vector<std::string> parts;
      if (step.kind == PreStep::kSplit || step.use_regex) {
        const auto pattern = step.kind == PreStep::kSplit ? step.pattern : bpe::SplitPattern::kGpt2;
        for (auto [b, e] : bpe::split_pieces(piece, pattern)) parts.push_back(piece.substr(b, e - b));
      } else {
        parts.push_back(std::move(piece));
      }
      for (std::string& part : parts) {
        if (part.empty()) continue;
        next.push_back(step.kind == PreStep::kByteLevel ? byte_level::encode(part) : std::move(part));
      }
    }
    pieces = std::move(next);
  }
  return pieces;
}

void BpeTokenizer::encode_plain(std::string_view text, std::vector<int64_t>& out) const {
  for (const std::string& piece : pre_tokenize(text)) bpe_piece(piece, out);
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
  for (const unicode::Char& ch : unicode::decode_utf8(piece)) {
    auto it = vocab_.find(piece.substr(ch.begin, ch.len));
    if (it != vocab_.end()) {
      ids.push_back(it->second);
      last_unk = false;
      continue;
    }
    if (byte_fallback_) {
      std::vector<int64_t> bytes;
      for (uint32_t k = 0; k < ch.len; ++k) {
        static const char* kHex = "0123456789ABCDEF";
        const auto b = static_cast<unsigned char>(piece[ch.begin + k]);
        auto bt = vocab_.find(std::string("<0x") + kHex[b >> 4] + kHex[b & 15] + ">");
        if (bt == vocab_.end()) break;
        bytes.push_back(bt->second);
      }
      if (bytes.size() == ch.len) {
        ids.insert(ids.end(), bytes.begin(), bytes.end());
        last_unk = false;
        continue;
      }
    }
    if (unk_id_) {  // without an unk token HF drops the character; so do we
      if (!(fuse_unk_ && last_unk)) ids.push_back(*unk_id_);
      last_unk = true;
    }
  }

  struct Merge {
    int32_t rank;
    size_t pos;
    int64_t new_id;
    bool operator>(const Merge& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  const size_t n = ids.size();
  std::vector<int64_t> prev(n), next(n);
  std::vector<bool> alive(n, true);
  std::priority_queue<Merge, std::vector<Merge>, std::greater<Merge>> queue;
  auto push = [&](size_t pos, size_t right) {
    if (const auto* m = merges_.find(ids[pos], ids[right])) queue.push({m->rank, pos, m->merged});
  };
  for (size_t i = 0; i < n; ++i) {
    prev[i] = static_cast<int64_t>(i) - 1;
    next[i] = i + 1 < n ? static_cast<int64_t>(i + 1) : -1;
    if (i + 1 < n) push(i, i + 1);
  }
  while (!queue.empty()) {
    const Merge top = queue.top();
    queue.pop();
    if (!alive[top.pos] || next[top.pos] < 0) continue;
    const auto right = static_cast<size_t>(next[top.pos]);
    const auto* m = merges_.find(ids[top.pos], ids[right]);
    if (!m || m->merged != top.new_id) continue;  // a stale entry
    ids[top.pos] = top.new_id;
    alive[right] = false;
    next[top.pos] = next[right];
    if (next[right] >= 0) prev[static_cast<size_t>(next[right])] = static_cast<int64_t>(top.pos);
    if (prev[top.pos] >= 0) push(static_cast<size_t>(prev[top.pos]), top.pos);
    if (next[top.pos] >= 0) push(top.pos, static_cast<size_t>(next[top.pos]));
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
  for (const Segment& raw : split_added(text, false)) {
    if (raw.token) {
      out.push_back(raw.token->id);
      continue;
    }
    const std::string normalized = nfc_ ? unicode::nfc(raw.text) : std::string(raw.text);
    for (const Segment& seg : split_added(normalized, true)) {
      if (seg.token) {
        out.push_back(seg.token->id);
      } else {
        encode_plain(seg.text, out);
      }
    }
  }
  if (templated) out.insert(out.end(), template_suffix_.begin(), template_suffix_.end());
  return out;
}

std::string BpeTokenizer::decode(const std::vector<int64_t>& ids) const {
  std::string bytes;
  for (int64_t id : ids) {
    const std::string* token = nullptr;
    if (auto a = added_by_id_.find(id); a != added_by_id_.end()) token = &added_[a->second].content;
    if (!token) {
      if (id < 0 || static_cast<size_t>(id) >= id_to_token_.size() || !id_to_token_[static_cast<size_t>(id)])
        continue;  // an id outside the vocabulary decodes to nothing, as in HF
      token = id_to_token_[static_cast<size_t>(id)];
    }
    if (!byte_level_ || !byte_level::decode(*token, bytes)) bytes += *token;
  }
  return unicode::utf8_lossy(bytes);
}

}  // namespace repro
