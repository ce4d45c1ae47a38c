#include "models/sentencepiece_tokenizer.h"

#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>

#include <fmt/format.h>

#include "core/error.h"
#include "core/store.h"
#include "models/detail/sentencepiece_shim.h"
#include "repro_spm_shim_path.h"  // REPRO_SPM_SHIM_PATH: the shim in the build tree (generated)

namespace repro {
namespace fs = std::filesystem;

namespace {

void append_to(void* ctx, const char* data, size_t n) { static_cast<std::string*>(ctx)->append(data, n); }

// Opens librepro_spm_shim.so once: $REPRO_SPM_SHIM, the build tree, then beside the executable.
const ReproSpmApi* open_shim() {
  std::vector<fs::path> candidates;
  if (const char* env = std::getenv("REPRO_SPM_SHIM")) candidates.emplace_back(env);
  candidates.emplace_back(REPRO_SPM_SHIM_PATH);
  std::error_code ec;
  const fs::path exe_dir = fs::read_symlink("/proc/self/exe", ec).parent_path();
  if (!ec) {
    candidates.push_back(exe_dir / "librepro_spm_shim.so");
    candidates.push_back(exe_dir.parent_path() / "lib" / "librepro_spm_shim.so");
  }
  std::string tried;
  for (const fs::path& path : candidates) {
    if (!fs::exists(path)) continue;
    // RTLD_DEEPBIND: SentencePiece's bundled protobuf must bind to itself, not to libtorch's.
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    if (!handle) {
      tried += fmt::format(" {} ({})", path.string(), ::dlerror());
      continue;
    }
    auto fn = reinterpret_cast<repro_spm_api_fn>(::dlsym(handle, REPRO_SPM_API_SYMBOL));
    const ReproSpmApi* api = fn ? fn() : nullptr;
    if (api && api->version == detail::kReproSpmApiVersion) return api;
    tried += fmt::format(" {} (not a compatible shim)", path.string());
  }
  throw NotSupported(fmt::format(
      "SentencePiece is unavailable: cannot load librepro_spm_shim.so (tried $REPRO_SPM_SHIM, {} and the executable's "
      "folder{}{})",
      REPRO_SPM_SHIM_PATH, tried.empty() ? "" : ":", tried));
}

const ReproSpmApi& spm() {
  static const ReproSpmApi* api = open_shim();
  return *api;
}

}  // namespace

struct SentencePieceTokenizer::Impl {
  void* processor = nullptr;
  std::optional<bool> add_bos_token;
  std::string origin;
  std::vector<bpe::AddedToken> added;  // never resized after `matcher` points into it
  bpe::AddedTokenMatcher matcher;
  // SentencePiece's ids of `text`, appended to `out`.
  void encode_plain(std::string_view text, std::vector<int64_t>& out) const;
  ~Impl() {
    if (processor) spm().destroy(processor);
  }
};

SentencePieceTokenizer::SentencePieceTokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SentencePieceTokenizer::~SentencePieceTokenizer() = default;

std::unique_ptr<SentencePieceTokenizer> SentencePieceTokenizer::load(
    const std::filesystem::path& model_file, std::optional<bool> add_bos_token,
    std::optional<std::vector<bpe::AddedToken>> added_tokens) {
  std::ifstream in(model_file, std::ios::binary);
  if (!in) throw DataError(model_file.string() + ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  auto impl = std::make_unique<Impl>();
  impl->origin = model_file.string();
  impl->add_bos_token = add_bos_token;
  impl->processor = spm().create();
  const std::string proto = ss.str();
  std::string err;
  if (!spm().load(impl->processor, proto.data(), proto.size(), append_to, &err))
    throw DataError(fmt::format("{}: not a SentencePiece model ({})", model_file.string(), err));
  std::unique_ptr<SentencePieceTokenizer> tok(new SentencePieceTokenizer(std::move(impl)));
  Impl& im = *tok->impl_;
  if (added_tokens) {
    im.added = std::move(*added_tokens);
  } else {
    for (int what : {3, 1, 2}) {  // unk, bos, eos
      const int id = spm().info(im.processor, what);
      if (id < 0) continue;
      bpe::AddedToken t;
      t.id = id;
      t.content = tok->id_to_piece(id);
      t.special = true, t.normalized = false;
      im.added.push_back(std::move(t));
    }
  }
  for (const bpe::AddedToken& t : im.added) im.matcher.add(t.content, &t);
  return tok;
}

void SentencePieceTokenizer::Impl::encode_plain(std::string_view text, std::vector<int64_t>& out) const {
  std::string bytes, err;
  if (!spm().encode(processor, text.data(), text.size(), append_to, &bytes, append_to, &err))
    throw DataError(fmt::format("{}: encoding failed ({})", origin, err));
  std::vector<int> ids(bytes.size() / sizeof(int));
  if (!ids.empty()) std::memcpy(ids.data(), bytes.data(), ids.size() * sizeof(int));
  out.insert(out.end(), ids.begin(), ids.end());
}

std::vector<int64_t> SentencePieceTokenizer::encode(std::string_view text, bool add_bos) const {
  std::vector<int64_t> out;
  const auto bos = bos_id();
  if (add_bos && impl_->add_bos_token.value_or(true) && bos) out.push_back(*bos);
  if (impl_->matcher.empty()) {
    impl_->encode_plain(text, out);
    return out;
  }
  for (const auto& seg : impl_->matcher.split(text)) {
    if (seg.token) {
      out.push_back(seg.token->id);
    } else {
      impl_->encode_plain(text.substr(seg.begin, seg.end - seg.begin), out);
    }
  }
  return out;
}

std::string SentencePieceTokenizer::decode(const std::vector<int64_t>& ids) const {
  std::vector<int> narrow;
  narrow.reserve(ids.size());
  const int64_t n = vocab_size();
  for (int64_t id : ids) {
    if (id < 0 || id >= n)
      throw DataError(fmt::format("{}: token id {} is outside the vocabulary [0, {})", impl_->origin, id, n));
    narrow.push_back(static_cast<int>(id));
  }
  std::string out, err;
  if (!spm().decode(impl_->processor, narrow.data(), narrow.size(), append_to, &out, append_to, &err))
    throw DataError(fmt::format("{}: decoding failed ({})", impl_->origin, err));
  return out;
}

int64_t SentencePieceTokenizer::vocab_size() const { return spm().info(impl_->processor, 0); }

std::optional<int64_t> SentencePieceTokenizer::bos_id() const {
  const int id = spm().info(impl_->processor, 1);
  return id >= 0 ? std::optional<int64_t>(id) : std::nullopt;
}

std::optional<int64_t> SentencePieceTokenizer::eos_id() const {
  const int id = spm().info(impl_->processor, 2);
  return id >= 0 ? std::optional<int64_t>(id) : std::nullopt;
}

std::string SentencePieceTokenizer::id_to_piece(int64_t id) const {
  if (id < 0 || id >= vocab_size()) throw DataError(fmt::format("{}: no piece with id {}", impl_->origin, id));
  std::string piece;
  spm().id_to_piece(impl_->processor, static_cast<int>(id), append_to, &piece);
  return piece;
}

void train_sentencepiece(const std::vector<std::string>& sentences, const std::filesystem::path& output_model,
                         const SentencePieceTrainOptions& o) {
  // The trainer's seed and log level are process-wide: serialize trainings.
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  auto b = [](bool v) { return std::string(v ? "true" : "false"); };
  const std::vector<std::pair<std::string, std::string>> args = {
      {"model_type", o.model_type},
      {"vocab_size", std::to_string(o.vocab_size)},
      {"byte_fallback", b(o.byte_fallback)},
      {"character_coverage", fmt::format("{}", o.character_coverage)},
      {"num_threads", std::to_string(o.num_threads)},
      {"max_sentence_length", std::to_string(o.max_sentence_length)},
      {"split_digits", b(o.split_digits)},
      {"normalization_rule_name", o.normalization_rule_name},
      {"remove_extra_whitespaces", b(o.remove_extra_whitespaces)},
      {"unk_id", std::to_string(o.unk_id)},
      {"bos_id", std::to_string(o.bos_id)},
      {"eos_id", std::to_string(o.eos_id)},
      {"pad_id", std::to_string(o.pad_id)},
      {"hard_vocab_limit", "true"},
      {"minloglevel", "2"},
  };
  std::vector<const char*> flat;
  for (const auto& [k, v] : args) flat.push_back(k.c_str()), flat.push_back(v.c_str());
  std::vector<const char*> lines;
  std::vector<size_t> lens;
  for (const std::string& s : sentences) lines.push_back(s.data()), lens.push_back(s.size());
  std::string proto, err;
  if (!spm().train(flat.data(), args.size(), lines.data(), lens.data(), lines.size(), o.seed, append_to, &proto,
                   append_to, &err))
    throw DataError(fmt::format("training SentencePiece for {} failed: {}", output_model.string(), err));
  if (output_model.has_parent_path()) fs::create_directories(output_model.parent_path());
  write_file_atomic(output_model, proto);
}

}  // namespace repro
