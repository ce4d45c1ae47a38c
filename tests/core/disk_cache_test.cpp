#include "tests/catch.h"

#include <cstdlib>

#include "core/disk_cache.h"
#include "core/error.h"
#include "tests/test_util.h"

using namespace repro;
namespace fs = std::filesystem;

namespace {
// A cache file of `bytes` bytes last used `age_s` seconds ago.
fs::path put(const fs::path& root, const std::string& rel, size_t bytes, int age_s) {
  fs::path p = root / rel;
  test::write_text(p, std::string(bytes, 'x'));
  fs::last_write_time(p, fs::file_time_type::clock::now() - std::chrono::seconds(age_s));
  return p;
}
struct EnvGuard {
  explicit EnvGuard(const char* value) { value ? ::setenv("REPRO_CACHE_MAX_SIZE", value, 1) : ::unsetenv("REPRO_CACHE_MAX_SIZE"); }
  ~EnvGuard() { ::unsetenv("REPRO_CACHE_MAX_SIZE"); }
};
}  // namespace

TEST_CASE("cache: sizes and ages parse; malformed ones are refused", "[core][cache]") {
  CHECK(parse_size("2048") == 2048u);
  CHECK(parse_size("500M") == 500ull << 20);
  CHECK(parse_size("1.5GiB") == 3ull << 29);
  CHECK(parse_size("10g") == 10ull << 30);
  CHECK(parse_size("0") == 0u);
  CHECK_FALSE(parse_size("ten"));
  CHECK_FALSE(parse_size("5X"));
  CHECK_FALSE(parse_size("-1G"));
  CHECK(parse_age("30m") == std::chrono::seconds(1800));
  CHECK(parse_age("7d") == std::chrono::seconds(7 * 86400));
  CHECK(parse_age("1.5h") == std::chrono::seconds(5400));
  CHECK_FALSE(parse_age("7"));
  CHECK_FALSE(parse_age("7dd"));
  CHECK(format_bytes(1536) == "1.5 KiB");
}

TEST_CASE("cache: prune evicts least recently used files first, only in the cache kinds' folders", "[core][cache]") {
  test::TempDir dir;
  const fs::path root = dir.path();
  auto oldest = put(root, "hessians/a.safetensors", 1000, 300);
  auto middle = put(root, "tokens/b.tok", 1000, 200);
  auto newest = put(root, "hessians/c.safetensors", 1000, 100);
  auto foreign = put(root, "notes/keep.txt", 5000, 10000);  // not a cache kind: never touched
  put(root, "hessians/.d.safetensors.tmp-1-0", 1000, 10000);  // a writer in progress: not listed
  auto entries = list_cache(root);
  REQUIRE(entries.size() == 3);
  CHECK(entries.front().path == oldest);
  CHECK(total_bytes(entries) == 3000);

  SECTION("a hit makes a file the most recently used") {
    mark_cache_used(oldest);
    PruneOptions o;
    o.max_bytes = 2000;
    auto r = prune_cache(root, o);
    CHECK(r.removed == 1);
    CHECK(fs::exists(oldest));
    CHECK_FALSE(fs::exists(middle));
  }
  SECTION("a size cap removes the oldest until under it; the kept file survives") {
    PruneOptions o;
    o.max_bytes = 1500;
    o.keep = oldest;
    auto r = prune_cache(root, o);
    // The kept file is the oldest, so both others go to get under the cap.
    CHECK(r.removed == 2);
    CHECK(r.freed_bytes == 2000);
    CHECK(r.remaining_bytes == 1000);
    CHECK(fs::exists(oldest));
    CHECK_FALSE(fs::exists(middle));
    CHECK_FALSE(fs::exists(newest));
  }
  SECTION("an age limit, a kind filter and a dry run") {
    PruneOptions o;
    o.older_than = std::chrono::seconds(150);
    o.kind = "hessians";
    o.dry_run = true;
    auto r = prune_cache(root, o);
    CHECK(r.removed == 1);
    CHECK(fs::exists(oldest));
    o.dry_run = false;
    r = prune_cache(root, o);
    CHECK(r.removed == 1);
    CHECK_FALSE(fs::exists(oldest));
    CHECK(fs::exists(middle));  // old enough, but tokens/ was not selected
  }
  CHECK(fs::exists(foreign));
}

TEST_CASE("cache: the cap comes from REPRO_CACHE_MAX_SIZE and is applied after writes", "[core][cache]") {
  test::TempDir dir;
  {
    EnvGuard env(nullptr);
    CHECK(default_cache_cap() == 10ull << 30);
  }
  {
    EnvGuard env("off");
    CHECK_FALSE(default_cache_cap());
  }
  {
    EnvGuard env("lots");
    CHECK_THROWS_AS(default_cache_cap(), ConfigError);
  }
  EnvGuard env("2500");
  put(dir.path(), "hessians/a.safetensors", 1000, 300);
  put(dir.path(), "hessians/b.safetensors", 1000, 200);
  auto fresh = put(dir.path(), "hessians/c.safetensors", 1000, 0);
  enforce_cache_cap(dir.path(), fresh);
  auto left = list_cache(dir.path());
  REQUIRE(left.size() == 2);
  CHECK(total_bytes(left) <= 2500);
  CHECK(fs::exists(fresh));
  CHECK_FALSE(fs::exists(dir.path() / "hessians/a.safetensors"));
}
