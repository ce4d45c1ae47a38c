#pragma once
// The C interface of librepro_spm_shim.so, the only code that links libsentencepiece.
//
// Why a separately loaded library: Debian's libsentencepiece bundles and exports its own copy of
// protobuf-lite 3.14, while Debian's libtorch needs the system libprotobuf 3.21. Linked into one
// program, the two copies bind to each other's symbols and the process dies before main() (a
// protobuf version check or a segfault in static initialization). The shim is therefore opened
// at run time with dlopen(RTLD_LOCAL | RTLD_DEEPBIND): SentencePiece binds to its own protobuf and
// nothing else sees it. Bytes cross the boundary through caller-provided sinks, so memory is
// always allocated and freed on the same side.

#include <cstddef>

extern "C" {

// Receives `n` bytes of output (called zero or more times; the receiver appends).
typedef void (*repro_spm_sink)(void* ctx, const char* data, size_t n);

struct ReproSpmApi {
  int version;  // kReproSpmApiVersion
  void* (*create)(void);
  void (*destroy)(void* processor);
  // Each returns 1 on success; on failure 0, with the reason written to err.
  int (*load)(void* processor, const char* proto, size_t n, repro_spm_sink err, void* err_ctx);
  // ids: int32 token ids, as raw bytes.
  int (*encode)(void* processor, const char* text, size_t n, repro_spm_sink ids, void* ctx, repro_spm_sink err,
                void* err_ctx);
  int (*decode)(void* processor, const int* ids, size_t n, repro_spm_sink text, void* ctx, repro_spm_sink err,
                void* err_ctx);
  // what: 0 piece count, 1 bos id, 2 eos id, 3 unk id (-1: none).
  int (*info)(void* processor, int what);
  int (*id_to_piece)(void* processor, int id, repro_spm_sink piece, void* ctx);
  // args: n_args (key, value) pairs as 2 * n_args strings; lines[i] has lens[i] bytes.
  int (*train)(const char* const* args, size_t n_args, const char* const* lines, const size_t* lens, size_t n_lines,
               unsigned seed, repro_spm_sink proto, void* ctx, repro_spm_sink err, void* err_ctx);
};

// The shim exports this function; it returns a static table.
typedef const ReproSpmApi* (*repro_spm_api_fn)(void);
#define REPRO_SPM_API_SYMBOL "repro_spm_api"
}

namespace repro::detail {
inline constexpr int kReproSpmApiVersion = 1;
}  // namespace repro::detail
