// librepro_spm_shim.so: SentencePiece behind a C table (see sentencepiece_shim.h for why).
#include "models/detail/sentencepiece_shim.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <string>
#include <unordered_map>
#include <vector>

namespace {

using sentencepiece::SentencePieceProcessor;

void put(repro_spm_sink sink, void* ctx, const std::string& s) {
  if (sink) sink(ctx, s.data(), s.size());
}

class LineIterator : public sentencepiece::SentenceIterator {
 public:
  LineIterator(const char* const* lines, const size_t* lens, size_t n) : lines_(lines), lens_(lens), n_(n) { load(); }
  bool done() const override { return i_ >= n_; }
  void Next() override {
    ++i_;
    load();
  }
  const std::string& value() const override { return current_; }
  sentencepiece::util::Status status() const override { return sentencepiece::util::Status(); }

 private:
  void load() {
    if (i_ < n_) current_.assign(lines_[i_], lens_[i_]);
  }
  const char* const* lines_;
  const size_t* lens_;
  size_t n_, i_ = 0;
  std::string current_;
};

void* create() { return new SentencePieceProcessor(); }
void destroy(void* p) { delete static_cast<SentencePieceProcessor*>(p); }

int load(void* p, const char* proto, size_t n, repro_spm_sink err, void* err_ctx) {
  const auto s = static_cast<SentencePieceProcessor*>(p)->LoadFromSerializedProto(std::string(proto, n));
  if (!s.ok()) put(err, err_ctx, s.ToString());
  return s.ok() ? 1 : 0;
}

int encode(void* p, const char* text, size_t n, repro_spm_sink ids, void* ctx, repro_spm_sink err, void* err_ctx) {
  std::vector<int> out;
  const auto s = static_cast<SentencePieceProcessor*>(p)->Encode(std::string(text, n), &out);
  if (!s.ok()) {
    put(err, err_ctx, s.ToString());
    return 0;
  }
  if (!out.empty()) ids(ctx, reinterpret_cast<const char*>(out.data()), out.size() * sizeof(int));
  return 1;
}

int decode(void* p, const int* ids, size_t n, repro_spm_sink text, void* ctx, repro_spm_sink err, void* err_ctx) {
  std::string out;
  const auto s = static_cast<SentencePieceProcessor*>(p)->Decode(std::vector<int>(ids, ids + n), &out);
  if (!s.ok()) {
    put(err, err_ctx, s.ToString());
    return 0;
  }
  put(text, ctx, out);
  return 1;
}

int info(void* p, int what) {
  const auto* sp = static_cast<SentencePieceProcessor*>(p);
  switch (what) {
    case 0: return sp->GetPieceSize();
    case 1: return sp->bos_id();
    case 2: return sp->eos_id();
    case 3: return sp->unk_id();
    default: return -1;
  }
}

int id_to_piece(void* p, int id, repro_spm_sink piece, void* ctx) {
  put(piece, ctx, static_cast<SentencePieceProcessor*>(p)->IdToPiece(id));
  return 1;
}

int train(const char* const* args, size_t n_args, const char* const* lines, const size_t* lens, size_t n_lines,
          unsigned seed, repro_spm_sink proto, void* ctx, repro_spm_sink err, void* err_ctx) {
  std::unordered_map<std::string, std::string> kwargs;
  for (size_t i = 0; i < n_args; ++i) kwargs[args[2 * i]] = args[2 * i + 1];
  sentencepiece::SetRandomGeneratorSeed(seed);
  LineIterator it(lines, lens, n_lines);
  std::string out;
  const auto s = sentencepiece::SentencePieceTrainer::Train(kwargs, &it, &out);
  if (!s.ok()) {
    put(err, err_ctx, s.ToString());
    return 0;
  }
  put(proto, ctx, out);
  return 1;
}

const ReproSpmApi kApi = {repro::detail::kReproSpmApiVersion, create, destroy, load, encode, decode, info,
                          id_to_piece, train};

}  // namespace

extern "C" __attribute__((visibility("default"))) const ReproSpmApi* repro_spm_api(void) { return &kApi; }
