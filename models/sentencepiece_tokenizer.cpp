#include "models/sentencepiece_tokenizer.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <fstream>
#include <mutex>
#include <sstream>
#include <unordered_map>

#include <fmt/format.h>

#include "core/error.h"
#include "core/store.h"

namespace repro {
namespace {

// Feeds in-memory lines to the trainer.
class VectorIterator : public sentencepiece::SentenceIterator {
 public:
  explicit VectorIterator(const std::vector<std::string>& lines) : lines_(lines) {}
  bool done() const override { return i_ >= lines_.size(); }
  void Next() override { ++i_; }
  const std::string& value() const override { return lines_[i_]; }
  sentencepiece::util::Status status() const override { return sentencepiece::util::Status(); }

 private:
  const std::vector<std::string>& lines_;
  size_t i_ = 0;
};

}  // namespace

struct SentencePieceTokenizer::Impl {
  sentencepiece::SentencePieceProcessor sp;
  std::optional<bool> add_bos_token;
  std::string origin;
};

SentencePieceTokenizer::SentencePieceTokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SentencePieceTokenizer::~SentencePieceTokenizer() = default;

std::unique_ptr<SentencePieceTokenizer> SentencePieceTokenizer::load(const std::filesystem::path& model_file,
                                                                     std::optional<bool> add_bos_token) {
  std::ifstream in(model_file, std::ios::binary);
  if (!in) throw DataError(model_file.string() + ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  auto impl = std::make_unique<Impl>();
  impl->origin = model_file.string();
  impl->add_bos_token = add_bos_token;
  const auto status = impl->sp.LoadFromSerializedProto(ss.str());
  if (!status.ok())
    throw DataError(fmt::format("{}: not a SentencePiece model ({})", model_file.string(), status.ToString()));
  return std::unique_ptr<SentencePieceTokenizer>(new SentencePieceTokenizer(std::move(impl)));
}

std::vector<int64_t> SentencePieceTokenizer::encode(std::string_view text, bool add_bos) const {
  std::vector<int> ids;
  const auto status = impl_->sp.Encode(std::string(text), &ids);
  if (!status.ok()) throw DataError(fmt::format("{}: encoding failed ({})", impl_->origin, status.ToString()));
  std::vector<int64_t> out;
  out.reserve(ids.size() + 1);
  if (add_bos && impl_->add_bos_token.value_or(true) && impl_->sp.bos_id() >= 0) out.push_back(impl_->sp.bos_id());
  out.insert(out.end(), ids.begin(), ids.end());
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
  std::string out;
  const auto status = impl_->sp.Decode(narrow, &out);
  if (!status.ok()) throw DataError(fmt::format("{}: decoding failed ({})", impl_->origin, status.ToString()));
  return out;
}

int64_t SentencePieceTokenizer::vocab_size() const { return impl_->sp.GetPieceSize(); }

std::optional<int64_t> SentencePieceTokenizer::bos_id() const {
  const int id = impl_->sp.bos_id();
  return id >= 0 ? std::optional<int64_t>(id) : std::nullopt;
}

std::optional<int64_t> SentencePieceTokenizer::eos_id() const {
  const int id = impl_->sp.eos_id();
  return id >= 0 ? std::optional<int64_t>(id) : std::nullopt;
}

std::string SentencePieceTokenizer::id_to_piece(int64_t id) const {
  if (id < 0 || id >= vocab_size()) throw DataError(fmt::format("{}: no piece with id {}", impl_->origin, id));
  return impl_->sp.IdToPiece(static_cast<int>(id));
}

void train_sentencepiece(const std::vector<std::string>& sentences, const std::filesystem::path& output_model,
                         const SentencePieceTrainOptions& o) {
  // The trainer's seed and log level are process-wide: serialize trainings.
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  auto b = [](bool v) { return std::string(v ? "true" : "false"); };
  const std::unordered_map<std::string, std::string> args = {
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
  sentencepiece::SetRandomGeneratorSeed(o.seed);
  VectorIterator it(sentences);
  std::string proto;
  const auto status = sentencepiece::SentencePieceTrainer::Train(args, &it, &proto);
  if (!status.ok())
    throw DataError(fmt::format("training SentencePiece for {} failed: {}", output_model.string(), status.ToString()));
  if (output_model.has_parent_path()) std::filesystem::create_directories(output_model.parent_path());
  write_file_atomic(output_model, proto);
}

}  // namespace repro
