#include "tests/catch.h"

#include "core/config.h"
#include "core/error.h"
#include "core/table_spec.h"
#include "tests/core/fake_plugins.h"

using namespace repro;

namespace {
TableSpec parse(const std::string& text, LoadOptions o = {}) { return TableSpec::parse(parse_toml(text, "t.toml"), "demo/t", o); }

std::string error_of(const std::string& text) {
  try {
    parse(text);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

const char* kHead = "[table]\ntitle = \"T\"\nsuite = \"fake\"\n";
}  // namespace

TEST_CASE("table spec: lists expand into one row per value, Cartesian product in order", "[core][table]") {
  auto t = parse(std::string(kHead) +
                 "[[rows]]\nlabel = \"Dense\"\n"
                 "[[rows]]\nlabel = \"S\"\ncompressor = { method = \"shrink\", factor = [0.5, 0.25], bits = [2, 3] }\n");
  REQUIRE(t.rows.size() == 5);
  CHECK(t.rows[0].display == "Dense");
  CHECK(t.rows[0].pipeline() == "dense");
  CHECK(t.rows[1].display == "S [factor=0.5, bits=2]");
  CHECK(t.rows[2].display == "S [factor=0.5, bits=3]");
  CHECK(t.rows[4].display == "S [factor=0.25, bits=3]");
  CHECK(t.rows[4].first("compressor")->params.get_float("factor") == 0.25);
  CHECK(t.rows[4].pipeline() ==
        "shrink(bits=3,factor=0.25,fail=false,groups=[1,2],mode=fast,rate=0.5,solver=greedy(),width=8)");
  CHECK(t.rows[4].canonical() == t.rows[4].pipeline() + " | base=10,dataset=d1,datasets=[a]");
  CHECK(t.rows[3].index == 3);
}

TEST_CASE("table spec: a list for a list-typed parameter is a value, a list of lists a sweep", "[core][table]") {
  auto t = parse(std::string(kHead) + "[suite]\ndatasets = [\"a\", \"b\"]\n" +
                 "[[rows]]\nlabel = \"X\"\ncompressor = { method = \"shrink\", groups = [[1], [2, 3]] }\n");
  REQUIRE(t.rows.size() == 2);
  CHECK(t.rows[0].suite_params.get_string_list("datasets") == std::vector<std::string>{"a", "b"});
  CHECK(t.rows[1].first("compressor")->params.get_int_list("groups") == std::vector<int64_t>{2, 3});
  CHECK(t.rows[1].display == "X [groups=[2,3]]");
}

TEST_CASE("table spec: suite parameters, per-row overrides and scale overrides", "[core][table]") {
  std::string text = std::string(kHead) + "[suite]\nbase = 4.0\n[scale.paper]\nbase = 8\n" +
                     "[[rows]]\nlabel = \"A\"\n[[rows]]\nlabel = \"B\"\ndataset = [\"d2\", \"d3\"]\n";
  auto t = parse(text);
  REQUIRE(t.rows.size() == 3);
  CHECK(t.rows[0].suite_params.get_float("base") == 4.0);
  CHECK(t.rows[2].suite_params.get_string("dataset") == "d3");
  CHECK(t.rows[2].display == "B [dataset=d3]");
  LoadOptions paper;
  paper.scale = "paper";
  auto tp = parse(text, paper);
  CHECK(tp.rows[0].suite_params.get_float("base") == 8.0);
  CHECK(tp.rows[0].scale == "paper");
}

TEST_CASE("table spec: a row value given per scale takes the table's scale", "[core][table]") {
  std::string text = std::string(kHead) +
                     "[[rows]]\nlabel = \"S\"\nbase = { embedded = 4.0, paper = 8.0 }\n"
                     "compressor = { method = \"shrink\", factor = { embedded = [0.5, 0.25], paper = 0.125 } }\n";
  auto t = parse(text);
  REQUIRE(t.rows.size() == 2);
  CHECK(t.rows[0].suite_params.get_float("base") == 4.0);
  CHECK(t.rows[1].first("compressor")->params.get_float("factor") == 0.25);
  LoadOptions paper;
  paper.scale = "paper";
  auto tp = parse(text, paper);
  REQUIRE(tp.rows.size() == 1);
  CHECK(tp.rows[0].suite_params.get_float("base") == 8.0);
  CHECK(tp.rows[0].first("compressor")->params.get_float("factor") == 0.125);
}

TEST_CASE("table spec: paper numbers, scalar or along the single sweep axis", "[core][table]") {
  auto t = parse(std::string(kHead) +
                 "[[rows]]\nlabel = \"S\"\ncompressor = { method = \"shrink\", bits = [2, 3] }\n"
                 "paper = { score = [9.5, 7.25], acc = 0.5 }\npaper_uncertain = true\n");
  REQUIRE(t.rows.size() == 2);
  CHECK(t.rows[0].paper.at("score") == 9.5);
  CHECK(t.rows[1].paper.at("score") == 7.25);
  CHECK(t.rows[1].paper.at("acc") == 0.5);
  CHECK(t.rows[1].paper_uncertain);
}

TEST_CASE("table spec: claims and plots resolve row labels", "[core][table]") {
  auto t = parse(std::string(kHead) +
                 "[[rows]]\nlabel = \"Dense\"\n[[rows]]\nlabel = \"S\"\ncompressor = { method = \"shrink\", bits = [2, 3] }\n"
                 "[[claims]]\nkind = \"gap_closed\"\nmetric = \"score\"\na = \"S [bits=3]\"\nb = \"S [bits=2]\"\nref = \"Dense\"\n"
                 "threshold = 0.3\n"
                 "[[plots]]\nx = \"acc\"\ny = \"score\"\n");
  REQUIRE(t.claims.size() == 1);
  CHECK(t.claims[0].kind == ClaimKind::GapClosed);
  CHECK(t.claims[0].a_row == 2);
  CHECK(t.claims[0].b_row == 1);
  CHECK(t.claims[0].ref_row == 0);
  REQUIRE(t.plots.size() == 1);
  CHECK(t.plots[0].x_better == Better::Higher);
  CHECK(t.plots[0].y_better == Better::Lower);
}

TEST_CASE("table spec: at_most / at_least claims bound one row; plots may join by x and label points",
          "[core][table]") {
  const std::string rows = std::string(kHead) + "[[rows]]\nlabel = \"S\"\ncompressor = { method = \"shrink\", bits = [2, 3] }\n";
  auto t = parse(rows + "[[claims]]\nkind = \"at_least\"\nmetric = \"score\"\na = \"S [bits=3]\"\nthreshold = 100\n"
                        "[[plots]]\nx = \"acc\"\ny = \"score\"\njoin = \"x\"\npoint_labels = true\n");
  REQUIRE(t.claims.size() == 1);
  CHECK(t.claims[0].kind == ClaimKind::AtLeast);
  CHECK(t.claims[0].a_row == 1);
  CHECK(t.claims[0].b_row == 1);
  CHECK(t.claims[0].threshold == 100.0);
  CHECK(t.plots[0].join_by_x);
  CHECK(t.plots[0].point_labels);
  CHECK_FALSE(parse(rows + "[[plots]]\nx = \"acc\"\ny = \"score\"\n").plots[0].join_by_x);
  CHECK(error_of(rows + "[[claims]]\nkind = \"at_most\"\nmetric = \"score\"\na = \"S [bits=3]\"\nb = \"S [bits=2]\"\n"
                        "threshold = 1\n")
            .find("key 'claims[0].b': a 'at_most' claim bounds one row (`a`) by `threshold`") != std::string::npos);
  CHECK(error_of(rows + "[[claims]]\nkind = \"at_most\"\nmetric = \"score\"\na = \"S [bits=3]\"\n")
            .find("claims[0].threshold") != std::string::npos);
  CHECK(error_of(rows + "[[plots]]\nx = \"acc\"\ny = \"score\"\njoin = \"y\"\n")
            .find("key 'plots[0].join': 'y' is neither 'rows'") != std::string::npos);
}

TEST_CASE("table spec: errors name file:line and key", "[core][table]") {
  std::string h = kHead;
  CHECK(error_of(h + "[[rows]]\nlabel = \"A\"\ncompresor = \"shrink\"\n") ==
        "t.toml:6: unknown key 'rows[0].compresor' (did you mean 'compressor'?)");
  CHECK(error_of(h + "[[rows]]\nlabel = \"A\"\ncompressor = { method = \"shrink\", bits = \"four\" }\n") ==
        "t.toml:6: key 'rows[0].compressor.bits': expected int, got string \"four\"");
  CHECK(error_of(h + "[[rows]]\nlabel = \"A\"\ncompressor = { method = \"shrnk\" }\n")
            .find("t.toml:6: key 'rows[0].compressor.method': unknown FakeMethod 'shrnk' (did you mean 'shrink'?)") == 0);
  CHECK(error_of(h + "[[rows]]\nlabel = \"A\"\n[[claims]]\nkind = \"less\"\nmetric = \"score\"\na = \"A\"\nb = \"B\"\n")
            .find("key 'claims[0].b': no row is labelled 'B'") != std::string::npos);
  CHECK(error_of("[table]\ntitle = \"T\"\nsuite = \"fak\"\n[[rows]]\nlabel = \"A\"\n")
            .find("t.toml:3: key 'table.suite': unknown suite 'fak' (did you mean 'fake'?)") == 0);
  CHECK(error_of(h + "[[rows]]\nlabel = \"A\"\n[[rows]]\nlabel = \"A\"\n").find("appears twice") != std::string::npos);
  CHECK(error_of(h + "[[rows]]\nlabel = \"A\"\nbase = \"x\"\n") ==
        "t.toml:6: key 'rows[0].base': expected float, got string \"x\"");
  CHECK(error_of(h + "[[rows]]\nlabel = 3\n") == "t.toml:5: key 'rows[0].label': expected string, got int 3");
  CHECK(error_of(h) == "t.toml: key 'rows': missing (expected array)");
}
