#include "core/driver.h"

#include <chrono>
#include <thread>

#include <c10/util/Exception.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/atomic_file.h"
#include "core/environment.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/memory.h"
#include "core/row_claim.h"
#include "core/strings.h"
#include "core/suite_registry.h"

namespace repro {

std::string row_key(const RowSpec& row, const nlohmann::json& fingerprint, uint64_t seed, const SuiteInfo& suite) {
  std::string versions = suite.name + "@" + suite.version;
  for (const auto& c : row.components) {
    versions += "," + c.method + "@" + c.info->version;
    for (const auto& v : c.params.component_versions()) versions += "," + v;  // nested components
  }
  std::string text = fmt::format("{}\n{}\n{}\nseed={}\nscale={}", row.canonical(), fingerprint.dump(), versions, seed,
                                 row.scale);
  return sha256_hex(text).substr(0, 20);
}

TableDriver::TableDriver(const TableSpec& table, ResultStore& store, RunContext& ctx)
    : table_(table), store_(store), ctx_(ctx), suite_(SuiteRegistry::instance().create(table.suite)) {}

nlohmann::json TableDriver::estimate(const RowSpec& row) {
  try {
    return suite_->estimate(row, ctx_);
  } catch (const Error& e) {
    return {{"summary", std::string("no estimate: ") + e.what()}};
  }
}

bool TableDriver::selected(const RowSpec& row, const DriverOptions& options) const {
  return options.rows_glob.empty() || glob_match(options.rows_glob, row.display);
}

std::vector<PlannedRow> TableDriver::plan(const DriverOptions& options) {
  std::vector<PlannedRow> out;
  for (const auto& row : table_.rows) {
    if (!selected(row, options)) continue;
    PlannedRow p;
    p.row = &row;
    try {
      p.fingerprint = suite_->fingerprint(row, ctx_);
    } catch (const Error& e) {
      p.state = PlannedRow::State::Unavailable;
      p.reason = e.what();
      p.fingerprint = {{"unavailable", e.what()}};
    }
    p.key = row_key(row, p.fingerprint, ctx_.seed(), *table_.suite_info);
    p.stamp = store_.stamp(table_.id, p.key);
    if (p.state != PlannedRow::State::Unavailable) {
      auto existing = store_.get(table_.id, p.key);
      p.had_ok_record = existing && existing->ok();
      if (existing && existing->ok() && !options.force) {
        p.state = PlannedRow::State::Cached;
      } else if (existing && !existing->ok()) {
        p.state = PlannedRow::State::Failed;
        p.reason = existing->error_type + ": " + existing->error_message;
      }
    }
    out.push_back(std::move(p));
  }
  return out;
}

Record TableDriver::execute(const RowSpec& row, const std::string& key, const nlohmann::json& fingerprint,
                            bool recomputed) {
  Record rec;
  rec.table = table_.id;
  rec.key = key;
  rec.row = static_cast<int64_t>(row.index);
  rec.label = row.display;
  rec.spec = row.pipeline();
  rec.row_spec = row.canonical();
  rec.scale = row.scale;
  rec.seed = ctx_.seed();
  rec.env = capture_environment(ctx_.device());
  rec.started_at = utc_timestamp();
  if (fingerprint.contains("model")) rec.model = fingerprint["model"];
  if (fingerprint.contains("data")) rec.data = fingerprint["data"];
  ctx_.reset_counters();
  ctx_.timer() = PhaseTimer([this] { ctx_.synchronize(); });
  ctx_.memory().begin_row();
  Stopwatch wall;
  auto fail = [&](const std::string& type, const std::string& message, const std::string& hint) {
    rec.status = "error";
    rec.error_type = type;
    rec.error_message = message;
    rec.error_hint = hint;
    ctx_.log().error("row '{}' failed: {}: {}{}", row.display, type, message, hint.empty() ? "" : " (hint: " + hint + ")");
  };
  try {
    Record out = suite_->run_row(row, ctx_);
    rec.metrics = std::move(out.metrics);
    rec.repetitions = std::move(out.repetitions);
    rec.details = std::move(out.details);
    if (!out.model.is_null()) rec.model = std::move(out.model);
    if (!out.data.is_null()) rec.data = std::move(out.data);
    for (const auto& [k, v] : out.time_s) rec.time_s[k] += v;
  } catch (const Error& e) {
    fail(e.kind(), e.what(), e.hint());
  } catch (const std::bad_alloc&) {
    fail("OutOfMemory", "out of memory", "");
  } catch (const std::exception& e) {
    // libtorch's errors (c10::Error) and anything else; a CUDA out-of-memory failure is the user's
    // to fix (smaller batches), so it gets its own type and hint.
    if (auto oom = device_out_of_memory(e)) fail(oom->kind(), oom->what(), oom->hint());
    else if (const auto* t = dynamic_cast<const c10::Error*>(&e)) fail("TorchError", t->what_without_backtrace(), "");
    else fail("InternalError", e.what(), "");
  }
  for (const auto& [k, v] : ctx_.timer().seconds()) rec.time_s[k] += v;
  rec.time_s["total"] = wall.seconds();
  // One definition of peak memory for every suite: the row's and each phase's (MemoryMeter).
  for (const auto& [k, v] : ctx_.memory().peaks_mb()) rec.peak_mem_mb[k] = v;
  rec.counters = {ctx_.counters().begin(), ctx_.counters().end()};
  rec.finished_at = utc_timestamp();
  store_.put(rec, recomputed);
  return rec;
}

std::optional<Record> TableDriver::run_row(const RowSpec& row, std::string* holder) {
  nlohmann::json fp;
  try {
    fp = suite_->fingerprint(row, ctx_);
  } catch (const Error& e) {
    fp = {{"unavailable", e.what()}};
  }
  const std::string key = row_key(row, fp, ctx_.seed(), *table_.suite_info);
  auto claim = RowClaim::try_claim(store_.table_dir(table_.id), key);
  if (!claim) {
    if (holder) *holder = RowClaim::holder(store_.table_dir(table_.id), key).value_or("another process");
    return std::nullopt;
  }
  auto existing = store_.get(table_.id, key);
  return execute(row, key, fp, existing && existing->ok());
}

DriverSummary TableDriver::run(const DriverOptions& options) {
  auto planned = plan(options);
  DriverSummary s;
  s.planned = planned.size();
  size_t todo = 0;
  for (const auto& p : planned) todo += p.state != PlannedRow::State::Cached;
  s.cached = planned.size() - todo;
  ctx_.log().info("{}: {} rows, {} cached, {} to run", table_.id, planned.size(), s.cached, todo);
  const auto table_dir = store_.table_dir(table_.id);
  sweep_abandoned_temps(table_dir);  // half-written records of killed runs (the store ignores them)
  size_t k = 0;

  // Runs a claimed row, unless its record changed since planning (another process wrote it).
  auto run_claimed = [&](const PlannedRow& p) {
    if (store_.stamp(table_.id, p.key) != p.stamp) {
      ++s.elsewhere;
      ctx_.log().info("{}: recorded by another process meanwhile", p.row->display);
      return;
    }
    ++k;
    ctx_.log().info("[{}/{}] {}", k, todo, p.row->display);
    Record rec = execute(*p.row, p.key, p.fingerprint, p.had_ok_record);
    if (rec.ok()) {
      ++s.ran;
      std::string summary;
      for (const auto& m : table_.metrics) {
        auto it = rec.metrics.find(m);
        if (it != rec.metrics.end()) summary += fmt::format(" {}={:.5g}", m, it->second);
      }
      ctx_.log().info("[{}/{}] done in {:.1f}s:{}", k, todo, rec.time_s["total"], summary);
    } else {
      ++s.failed;
    }
  };

  std::vector<const PlannedRow*> others;  // rows another process was computing
  for (const auto& p : planned) {
    if (p.state == PlannedRow::State::Cached) continue;
    auto claim = RowClaim::try_claim(table_dir, p.key);
    if (!claim) {
      ctx_.log().info("{}: being computed by {}", p.row->display,
                      RowClaim::holder(table_dir, p.key).value_or("another process"));
      others.push_back(&p);
      continue;
    }
    run_claimed(p);
  }

  // Wait for the other processes' rows; take over those whose owner went away without a record.
  auto last_note = std::chrono::steady_clock::now();
  while (options.wait_for_others && !others.empty()) {
    std::vector<const PlannedRow*> still;
    for (const PlannedRow* p : others) {
      if (store_.stamp(table_.id, p->key) != p->stamp) {
        ++s.elsewhere;
        if (auto r = store_.get(table_.id, p->key); r && !r->ok()) ++s.failed;
        continue;
      }
      if (auto claim = RowClaim::try_claim(table_dir, p->key)) {
        run_claimed(*p);
      } else {
        still.push_back(p);
      }
    }
    others = std::move(still);
    if (others.empty()) break;
    if (std::chrono::steady_clock::now() - last_note > std::chrono::seconds(60)) {
      ctx_.log().info("{}: waiting for {} rows computed by other processes", table_.id, others.size());
      last_note = std::chrono::steady_clock::now();
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(options.poll_seconds));
  }
  return s;
}

}  // namespace repro
