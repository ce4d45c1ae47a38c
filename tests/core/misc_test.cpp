#include "tests/catch.h"

#include <ATen/ATen.h>

#include <cstdio>

#include <ATen/Parallel.h>
#include <spdlog/spdlog.h>

#include "core/error.h"
#include "core/hash.h"
#include "core/process.h"
#include "core/progress.h"
#include "core/run_context.h"
#include "core/strings.h"

using namespace repro;

TEST_CASE("strings: glob, did-you-mean, slug", "[core][strings]") {
  CHECK(glob_match("Sparse*", "SparseGPT [sparsity=0.5]"));
  CHECK(glob_match("*[bits=3]*", "RTN [bits=3]"));
  CHECK_FALSE(glob_match("Sparse*", "Wanda"));
  CHECK(glob_match("R?N", "RTN"));
  CHECK(did_you_mean("sprsegpt", {"sparsegpt", "wanda"}) == " (did you mean 'sparsegpt'?)");
  CHECK(did_you_mean("xyz", {"sparsegpt", "wanda"}).empty());
  CHECK(slug("SparseGPT 2:4") == "sparsegpt_2-4");
}

TEST_CASE("hash: sha256 of known strings", "[core][hash]") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("run context: component generators are seeded, independent and reproducible", "[core][context]") {
  RunOptions o;
  o.log_level = "off";
  o.seed = 7;
  RunContext a(o), b(o);
  auto ga = a.generator("x"), gb = b.generator("x"), gy = a.generator("y");
  auto ta = at::rand({4}, ga), tb = at::rand({4}, gb), ty = at::rand({4}, gy);
  CHECK(at::equal(ta, tb));
  CHECK_FALSE(at::equal(ta, ty));
  o.seed = 8;
  RunContext c(o);
  auto gc = c.generator("x");
  CHECK_FALSE(at::equal(ta, at::rand({4}, gc)));
  CHECK_THROWS(RunContext([] { RunOptions r; r.dtype = "float13"; return r; }()));
}

TEST_CASE("run context: construction leaves the thread count and the log levels alone", "[core][context]") {
  const int threads = at::get_num_threads();
  const auto global_level = spdlog::get_level();
  RunOptions quiet;
  quiet.log_level = "off";
  RunOptions chatty;
  chatty.log_level = "trace";
  RunContext a(quiet);
  RunContext b(chatty);
  CHECK(at::get_num_threads() == threads);
  CHECK(spdlog::get_level() == global_level);
  CHECK(spdlog::default_logger()->level() == global_level);
  CHECK(spdlog::get("repro") == nullptr);  // no logger registered process-wide
  // Each context logs at its own level: the second one did not change the first one's.
  CHECK(a.log().level() == spdlog::level::off);
  CHECK(b.log().level() == spdlog::level::trace);
  RunOptions bad;
  bad.log_level = "loud";
  CHECK_THROWS_AS(RunContext(bad), ConfigError);
}

TEST_CASE("process settings are applied by configure_process, explicitly", "[core][context]") {
  const int threads = at::get_num_threads();
  const auto level = spdlog::get_level();
  ProcessOptions p;
  p.threads = threads + 1;
  p.log_level = "error";
  configure_process(p);
  CHECK(at::get_num_threads() == threads + 1);
  CHECK(spdlog::get_level() == spdlog::level::err);
  p.threads = threads;
  p.log_level = spdlog::level::to_string_view(level).data();
  configure_process(p);
  CHECK(at::get_num_threads() == threads);
  CHECK(spdlog::get_level() == level);
  p.log_level = "loud";
  CHECK_THROWS_AS(configure_process(p), ConfigError);
  p.log_level = "info";
  p.threads = -1;
  CHECK_THROWS_AS(configure_process(p), ConfigError);
}

TEST_CASE("run context: each repetition draws its own streams; repetition 0 draws the unrepeated ones",
          "[core][context]") {
  RunOptions o;
  o.log_level = "off";
  o.seed = 3;
  RunContext ctx(o);
  const uint64_t plain = ctx.component_seed("noise");
  ctx.set_repetition(0);
  CHECK(ctx.component_seed("noise") == plain);
  ctx.set_repetition(1);
  const uint64_t r1 = ctx.component_seed("noise");
  ctx.set_repetition(2);
  const uint64_t r2 = ctx.component_seed("noise");
  CHECK(r1 != plain);
  CHECK(r2 != plain);
  CHECK(r1 != r2);
  RunContext other(o);
  other.set_repetition(1);
  CHECK(other.component_seed("noise") == r1);  // reproducible from the row's seed
}

TEST_CASE("progress: plain lines off a terminal show counts and ETA", "[core][progress]") {
  std::FILE* f = std::tmpfile();
  {
    Progress p("rows", 4, f, /*tty=*/false, /*interval_s=*/0.0);
    p.advance();
    CHECK(p.render().rfind("rows: 1/4 (25%) elapsed 0s eta ", 0) == 0);
    p.advance(3);
  }
  std::rewind(f);
  char buf[4096] = {0};
  size_t n = std::fread(buf, 1, sizeof(buf) - 1, f);
  std::string out(buf, n);
  CHECK(out.find("rows: 1/4") != std::string::npos);
  CHECK(out.find("rows: 4/4 (100%)") != std::string::npos);
  CHECK(out.find('\r') == std::string::npos);
  std::fclose(f);
}
