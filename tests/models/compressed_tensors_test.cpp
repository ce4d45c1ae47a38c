// The compressed-tensors writer: the packed layouts byte for byte on small tensors whose values are
// worked out by hand from the format's rules (compressed-tensors 0.12.2, pack_quantized.py
// pack_to_int32, helpers.py pack_bitmasks = numpy.packbits(bitorder="little"),
// sparse_24_bitmask.py, sparse_bitmask.py), and whole checkpoints through an independent
// structural check and decoder (tests/compressed_tensors_check.h).

#include <ATen/ATen.h>

#include <cstring>

#include "core/strings.h"
#include "models/compressed_tensors.h"
#include "models/safetensors.h"
#include "tests/catch.h"
#include "tests/compressed_tensors_check.h"
#include "tests/models/models_test_util.h"
#include "tests/test_util.h"

using namespace repro;
namespace ct = repro::compressed_tensors;
using repro::test::TempDir;

namespace {

at::Tensor bytes_u8(std::initializer_list<int> v, int64_t rows) {
  std::vector<uint8_t> b(v.begin(), v.end());
  return at::tensor(std::vector<int64_t>(b.begin(), b.end()), at::kLong).to(at::kByte).reshape({rows, -1});
}

at::Tensor ints(std::initializer_list<int64_t> v, int64_t rows) { return at::tensor(std::vector<int64_t>(v), at::kLong).reshape({rows, -1}); }

// The raw bytes a safetensors file stores for one tensor.
std::string stored_bytes(const std::filesystem::path& file, const std::string& name) {
  std::string all = test::read_text(file);
  uint64_t n = 0;
  std::memcpy(&n, all.data(), 8);
  const auto& info = SafetensorsFile(file).info(name);
  return all.substr(8 + n + info.begin, info.end - info.begin);
}

std::string hex(const std::string& s) {
  std::string out;
  for (unsigned char c : s) out += fmt::format("{:02x}", c);
  return out;
}

const at::Tensor& find(const ct::NamedTensors& t, const std::string& name) {
  for (const auto& [n, v] : t)
    if (n == name) return v;
  FAIL("no tensor " << name);
  static at::Tensor none;
  return none;
}

std::vector<std::string> names(const ct::NamedTensors& t) {
  std::vector<std::string> out;
  for (const auto& [n, v] : t) out.push_back(n);
  return out;
}

// Min-max asymmetric (or GPTQ-style symmetric, zero = 2^(b-1)) grids per group of `g` columns.
QuantCodes quantize(const at::Tensor& w, int bits, int64_t g, bool sym) {
  const int64_t out = w.size(0), in = w.size(1), groups = (in + g - 1) / g;
  const double maxq = (1 << bits) - 1;
  at::Tensor wg = w.reshape({out, groups, g});
  at::Tensor lo = wg.amin(-1).clamp_max(0), hi = wg.amax(-1).clamp_min(0);
  at::Tensor scale, zero;
  if (sym) {
    at::Tensor m = at::maximum(lo.abs(), hi);
    scale = 2 * m / maxq;
    zero = at::full_like(scale, (maxq + 1) / 2);
  } else {
    scale = (hi - lo) / maxq;
    zero = (-lo / scale).round();
  }
  at::Tensor codes = (wg / scale.unsqueeze(-1)).round().add(zero.unsqueeze(-1)).clamp(0, maxq).reshape({out, in});
  QuantCodes q;
  q.codes = codes.to(at::kByte);
  q.scales = scale;
  q.zeros = zero;
  q.bits = bits;
  q.group_size = g;
  q.symmetric = sym;
  return q;
}

// Every linear of every block of a tiny model replaced by `make(weight)`.
template <class F>
std::unique_ptr<CausalLM> compressed_model(F make, uint64_t seed = 5) {
  auto m = CausalLM::random(test::tiny_config("llama"), seed);
  for (int64_t i = 0; i < m->num_layers(); ++i)
    for (const auto& name : DecoderBlock::linear_names()) {
      Linear& lin = m->block(i).linear(name);
      lin.compressed = std::make_shared<CompressedLinear>(make(lin.weight));
      lin.weight = at::Tensor();
    }
  return m;
}

// The decoded weights of every compressed linear equal the in-memory reconstruction exactly.
void check_decodes(const std::filesystem::path& dir, CausalLM& m, const test::CtReport& rep) {
  for (const auto& L : rep.layers) {
    if (L.kind == "dense") continue;
    INFO(L.path);
    const auto parts = split(L.path, '.');
    const Linear& lin = m.block(std::stoll(parts[2])).linear(parts[4]);
    CHECK(at::equal(test::decode_ct_layer(dir, L), lin.compressed->dense()));
  }
}

}  // namespace

TEST_CASE("pack_int32: fields of b bits from the least significant end, words as signed int32",
          "[models][compressed_tensors]") {
  // 4 bits: 1..8 fill one word as 0x87654321 (negative as int32), the ninth code starts word 2.
  at::Tensor p = ct::pack_int32(bytes_u8({1, 2, 3, 4, 5, 6, 7, 8, 9}, 1), 4);
  REQUIRE(p.scalar_type() == at::kInt);
  REQUIRE(p.sizes() == at::IntArrayRef({1, 2}));
  CHECK(p[0][0].item<int32_t>() == static_cast<int32_t>(0x87654321u));
  CHECK(p[0][1].item<int32_t>() == 9);
  // 8 bits: 4 per word.
  at::Tensor q = ct::pack_int32(bytes_u8({1, 2, 255, 128, 7}, 1), 8);
  CHECK(q[0][0].item<int32_t>() == static_cast<int32_t>(0x80ff0201u));
  CHECK(q[0][1].item<int32_t>() == 7);
  // 3 bits: 10 fields per word, the top 2 bits unused: 7 x 10 = 30 one bits.
  at::Tensor r = ct::pack_int32(at::full({2, 10}, 7, at::kByte), 3);
  CHECK(r.sizes() == at::IntArrayRef({2, 1}));
  CHECK(r[1][0].item<int32_t>() == 0x3fffffff);
  for (int bits : {2, 3, 4, 8}) {
    at::Tensor c = at::randint(0, 1 << bits, {3, 37}, at::kByte);
    CHECK(at::equal(ct::unpack_int32(ct::pack_int32(c, bits), bits, 37), c));
  }
}

TEST_CASE("pack_bitmask: numpy.packbits(axis=-1, bitorder='little')", "[models][compressed_tensors]") {
  at::Tensor mask = bytes_u8({1, 0, 1, 1, 0, 0, 0, 0, 1, /**/ 0, 0, 0, 0, 0, 0, 0, 1, 0}, 2).to(at::kBool);
  at::Tensor b = ct::pack_bitmask(mask);
  CHECK(b.scalar_type() == at::kByte);
  CHECK(at::equal(b, bytes_u8({0x0d, 0x01, 0x80, 0x00}, 2)));
}

TEST_CASE("pack-quantized layer: names, dtypes, shapes and bytes of a hand-worked 4-bit example",
          "[models][compressed_tensors]") {
  // 3 rows x 8 columns, groups of 4 -> 2 groups; asymmetric, so zero points are stored.
  QuantCodes q;
  q.bits = 4;
  q.group_size = 4;
  q.codes = bytes_u8({0, 1, 2, 3, 4, 5, 6, 7, /**/ 15, 14, 13, 12, 11, 10, 9, 8, /**/ 8, 8, 8, 8, 0, 0, 15, 15}, 3);
  q.scales = at::tensor({0.5, 0.25, 1.0, 2.0, 0.125, 4.0}, at::kFloat).reshape({3, 2});
  q.zeros = at::tensor({1., 2., 3., 4., 5., 6.}, at::kFloat).reshape({3, 2});
  ct::NamedTensors t = ct::pack_quantized_layer("m.l", q, at::kHalf);
  CHECK(names(t) == std::vector<std::string>{"m.l.weight_packed", "m.l.weight_scale", "m.l.weight_zero_point", "m.l.weight_shape"});
  // Our codes are the format's unsigned fields (signed q = c - 8): row 0 packs 0..7 -> 0x76543210.
  const at::Tensor& wp = find(t, "m.l.weight_packed");
  CHECK(wp.sizes() == at::IntArrayRef({3, 1}));
  CHECK(wp[0][0].item<int32_t>() == 0x76543210);
  CHECK(wp[1][0].item<int32_t>() == static_cast<int32_t>(0x89abcdefu));
  CHECK(wp[2][0].item<int32_t>() == static_cast<int32_t>(0xff008888u));
  CHECK(find(t, "m.l.weight_scale").scalar_type() == at::kHalf);
  CHECK(at::equal(find(t, "m.l.weight_scale").to(at::kFloat), q.scales));
  // Zero points z (= signed zp + 8) packed down the rows: column 0 holds 1, 3, 5 -> 0x531.
  const at::Tensor& zp = find(t, "m.l.weight_zero_point");
  CHECK(zp.scalar_type() == at::kInt);
  CHECK(at::equal(zp, ints({0x531, 0x642}, 1).to(at::kInt)));
  CHECK(at::equal(find(t, "m.l.weight_shape"), at::tensor({3, 8}, at::kLong)));

  // In the file: little-endian int32 words, int64 shape.
  TempDir dir("ct");
  save_safetensors(dir / "x.safetensors", t);
  CHECK(SafetensorsFile(dir / "x.safetensors").info("m.l.weight_packed").dtype == safetensors::Dtype::I32);
  CHECK(hex(stored_bytes(dir / "x.safetensors", "m.l.weight_packed")) == "10325476" "efcdab89" "888800ff");
  CHECK(hex(stored_bytes(dir / "x.safetensors", "m.l.weight_zero_point")) == "31050000" "42060000");
  CHECK(hex(stored_bytes(dir / "x.safetensors", "m.l.weight_shape")) == "0300000000000000" "0800000000000000");

  // w = (q - zp) * s equals our s * (c - z): row 1, column 5 is c=10, z=4, s=2 -> 12.
  CHECK(q.dequantize()[1][5].item<float>() == 12.0f);
  CHECK((((10 - 8) - (4 - 8)) * 2.0f) == 12.0f);

  SECTION("symmetric grids store no zero point; other zero points are refused") {
    QuantCodes s = q;
    s.symmetric = true;
    s.zeros = at::full({3, 2}, 8.0f);
    CHECK(names(ct::pack_quantized_layer("m.l", s, at::kFloat)) ==
          std::vector<std::string>{"m.l.weight_packed", "m.l.weight_scale", "m.l.weight_shape"});
    s.zeros[0][0] = 7.0f;
    CHECK_THROWS_AS(ct::pack_quantized_layer("m.l", s, at::kFloat), NotSupported);
    QuantCodes f = q;
    f.zeros[2][1] = 2.5f;
    CHECK_THROWS_AS(ct::pack_quantized_layer("m.l", f, at::kFloat), NotSupported);
  }
  SECTION("a column -> group map is written as int32 weight_g_idx, actorder group") {
    QuantCodes g = q;
    g.g_idx = at::tensor({1, 0, 1, 0, 1, 0, 1, 0}, at::kLong);
    CHECK(at::equal(find(ct::pack_quantized_layer("m.l", g, at::kFloat), "m.l.weight_g_idx"), g.g_idx.to(at::kInt)));
    CHECK(ct::quant_args(g)["actorder"] == "group");
    CHECK(ct::quant_args(q)["actorder"].is_null());
    CHECK(ct::quant_args(q)["strategy"] == "group");
    CHECK(ct::quant_args(q)["group_size"] == 4);
  }
}

TEST_CASE("sparse-24-bitmask and sparse-bitmask layers of a hand-worked example", "[models][compressed_tensors]") {
  // Row 0 keeps columns 0, 3 | 5, 6; row 1 keeps only column 3 of its first group (the writer
  // adds column 0, a zero) and columns 4, 7.
  at::Tensor w = at::tensor({1., 0., 0., 2., 0., 3., 4., 0., /**/ 0., 0., 0., 5., 6., 0., 0., 7.}, at::kFloat).reshape({2, 8});
  at::Tensor mask = w.ne(0);
  ct::NamedTensors t = ct::sparse24_bitmask_layer("m.l", w, mask, at::kFloat);
  CHECK(names(t) == std::vector<std::string>{"m.l.shape", "m.l.compressed", "m.l.bitmask"});
  CHECK(at::equal(find(t, "m.l.compressed"), at::tensor({1., 2., 3., 4., 0., 5., 6., 7.}, at::kFloat).reshape({2, 4})));
  // Row 0: bits 0, 3, 5, 6 -> 0x69; row 1: bits 0, 3, 4, 7 -> 0x99.
  CHECK(at::equal(find(t, "m.l.bitmask"), bytes_u8({0x69, 0x99}, 2)));
  CHECK(at::equal(find(t, "m.l.shape"), ints({2, 8}, 2)));

  ct::NamedTensors u = ct::sparse_bitmask_layer("m.l", w, at::kHalf);
  CHECK(names(u) == std::vector<std::string>{"m.l.shape", "m.l.compressed", "m.l.bitmask", "m.l.row_offsets"});
  CHECK(find(u, "m.l.compressed").scalar_type() == at::kHalf);
  CHECK(at::equal(find(u, "m.l.compressed").to(at::kFloat), at::tensor({1., 2., 3., 4., 5., 6., 7.}, at::kFloat)));
  CHECK(at::equal(find(u, "m.l.bitmask"), bytes_u8({0x69, 0x98}, 2)));
  CHECK(at::equal(find(u, "m.l.row_offsets"), at::tensor({0, 4}, at::kLong)));
  CHECK(at::equal(find(u, "m.l.shape"), at::tensor({2, 8}, at::kLong)));
}

TEST_CASE("compressed-tensors checkpoints pass the structural check and decode to the compressed weights",
          "[models][compressed_tensors]") {
  at::manual_seed(0);
  SECTION("pack-quantized, asymmetric 4-bit groups of 16, fp32") {
    auto m = compressed_model([](const at::Tensor& w) {
      CompressedLinear c;
      c.set_quant(quantize(w, 4, 16, false));
      return c;
    });
    TempDir dir("ct");
    ct::save_compressed_tensors(*m, dir.path(), at::kFloat);
    auto rep = test::check_compressed_tensors(dir.path());
    INFO(rep.describe());
    CHECK(rep.problems.empty());
    CHECK(rep.layers.size() == 14);
    for (const auto& L : rep.layers) CHECK(L.kind == "quant");
    auto qc = test::ct_read_json(dir / "config.json")["quantization_config"];
    CHECK(qc["config_groups"]["group_0"]["targets"] == nlohmann::json{"Linear"});
    CHECK(qc["config_groups"]["group_0"]["weights"]["num_bits"] == 4);
    CHECK(qc["config_groups"]["group_0"]["weights"]["symmetric"] == false);
    CHECK(qc["ignore"] == nlohmann::json{"lm_head"});
    check_decodes(dir.path(), *m, rep);
  }
  SECTION("pack-quantized, symmetric 8-bit per channel with a dense layer left out, bf16") {
    auto m = compressed_model([](const at::Tensor& w) {
      CompressedLinear c;
      c.set_quant(quantize(w, 8, w.size(1), true));
      return c;
    });
    Linear& keep = m->block(1).down_proj;
    keep.weight = keep.compressed->dense().clone();
    keep.compressed.reset();
    TempDir dir("ct");
    ct::save_compressed_tensors(*m, dir.path(), at::kBFloat16);
    auto rep = test::check_compressed_tensors(dir.path());
    INFO(rep.describe());
    CHECK(rep.problems.empty());
    auto qc = test::ct_read_json(dir / "config.json")["quantization_config"];
    CHECK(qc["ignore"] == nlohmann::json{"lm_head", "model.layers.1.mlp.down_proj"});
    CHECK(qc["config_groups"]["group_0"]["weights"]["strategy"] == "channel");
    CHECK(test::ct_read_json(dir / "config.json")["torch_dtype"] == "bfloat16");
  }
  SECTION("sparse-24-bitmask") {
    auto m = compressed_model([](const at::Tensor& w) {
      at::Tensor g = w.reshape({w.size(0), -1, 4});
      at::Tensor idx = std::get<1>(g.abs().topk(2, -1));
      at::Tensor mask = at::zeros_like(g, at::kBool).scatter(-1, idx, true).reshape(w.sizes());
      CompressedLinear c;
      c.set_sparse(w, mask);
      c.set_pattern(2, 4);
      return c;
    });
    TempDir dir("ct");
    ct::save_compressed_tensors(*m, dir.path(), at::kFloat);
    auto rep = test::check_compressed_tensors(dir.path());
    INFO(rep.describe());
    CHECK(rep.problems.empty());
    auto sc = test::ct_read_json(dir / "config.json")["quantization_config"]["sparsity_config"];
    CHECK(sc["format"] == "sparse-24-bitmask");
    CHECK(sc["global_sparsity"].get<double>() == Approx(0.5));
    check_decodes(dir.path(), *m, rep);
  }
  SECTION("sparse-bitmask (unstructured)") {
    auto m = compressed_model([](const at::Tensor& w) {
      CompressedLinear c;
      c.set_sparse(w, w.abs().gt(0.015));
      return c;
    });
    TempDir dir("ct");
    ct::save_compressed_tensors(*m, dir.path(), at::kFloat);
    auto rep = test::check_compressed_tensors(dir.path());
    INFO(rep.describe());
    CHECK(rep.problems.empty());
    CHECK(test::ct_read_json(dir / "config.json")["quantization_config"]["sparsity_config"]["format"] == "sparse-bitmask");
    check_decodes(dir.path(), *m, rep);
  }
  SECTION("low-rank parts are refused before anything is written") {
    auto m = compressed_model([](const at::Tensor& w) {
      CompressedLinear c;
      c.set_sparse(w, w.abs().gt(0.015));
      c.set_low_rank(at::randn({w.size(0), 2}), at::randn({2, w.size(1)}));
      return c;
    });
    TempDir dir("ct");
    const std::string msg = test::error_of<NotSupported>([&] { ct::save_compressed_tensors(*m, dir / "out", at::kFloat); });
    CHECK_CONTAINS(msg, "model.layers.0.self_attn.q_proj");
    CHECK_CONTAINS(msg, "low-rank");
    CHECK(!std::filesystem::exists(dir / "out"));
  }
}
