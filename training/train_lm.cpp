#include "training/train_lm.h"

#include <ATen/ATen.h>

#include <cmath>
#include <fstream>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/grad_mode.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "core/error.h"
#include "core/store.h"
#include "models/safetensors.h"
#include "training/adamw.h"

namespace repro {

namespace fs = std::filesystem;

namespace {

// What a checkpoint must match to be resumed: the options and the architecture.
nlohmann::json options_json(const TrainOptions& o, const CausalLM& model) {
  return {{"model", model.config().to_json()}, {"seqlen", o.seqlen}, {"batch_size", o.batch_size}, {"steps", o.steps}, {"warmup", o.warmup},
          {"lr", o.lr}, {"min_lr", o.min_lr}, {"weight_decay", o.weight_decay}, {"grad_clip", o.grad_clip},
          {"seed", o.seed}};
}

// Next-token loss of one batch of windows [B, T+1]: predict tokens 1..T from 0..T-1.
at::Tensor batch_loss(const CausalLM& model, const at::Tensor& batch) {
  at::Tensor inputs = batch.slice(1, 0, batch.size(1) - 1);
  at::Tensor targets = batch.slice(1, 1);
  at::Tensor logits = model.forward(inputs);  // [B, T, V] fp32
  return at::cross_entropy_loss(logits.reshape({-1, logits.size(-1)}), targets.reshape({-1}));
}

// The batch of step `step`: B random windows of T+1 tokens, from a generator seeded by (seed, step).
at::Tensor sample_batch(const at::Tensor& ids, const TrainOptions& o, int64_t step) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(o.seed * 1000003ULL + static_cast<uint64_t>(step));
  const int64_t span = o.seqlen + 1;
  at::Tensor starts = at::randint(0, ids.size(0) - span, {o.batch_size}, gen, at::TensorOptions().dtype(at::kLong));
  at::Tensor offs = at::arange(span, at::TensorOptions().dtype(at::kLong));
  return ids.index({(starts.unsqueeze(1) + offs.unsqueeze(0)).reshape({-1})}).reshape({o.batch_size, span});
}

void append_row(const fs::path& path, const TrainLogPoint& p) {
  std::ofstream out(path, std::ios::app);
  out << fmt::format("{},{:.6g},{:.6f},{:.4f},{:.1f}\n", p.step, p.lr, p.train_loss, p.valid_ppl, p.elapsed_s);
}

std::vector<TrainLogPoint> read_log(const fs::path& path, int64_t upto) {
  std::vector<TrainLogPoint> out;
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    TrainLogPoint p;
    if (std::sscanf(line.c_str(), "%ld,%lf,%lf,%lf,%lf", &p.step, &p.lr, &p.train_loss, &p.valid_ppl, &p.elapsed_s) == 5 &&
        p.step <= upto)
      out.push_back(p);
  }
  return out;
}

}  // namespace

double mean_next_token_loss(const CausalLM& model, const at::Tensor& windows, int64_t batch_size) {
  at::NoGradGuard no_grad;
  double total = 0;
  int64_t count = 0;
  for (int64_t i = 0; i < windows.size(0); i += batch_size) {
    at::Tensor b = windows.slice(0, i, std::min(i + batch_size, windows.size(0)));
    int64_t n = b.size(0) * (b.size(1) - 1);
    total += batch_loss(model, b).item<double>() * static_cast<double>(n);
    count += n;
  }
  return total / static_cast<double>(std::max<int64_t>(count, 1));
}

TrainResult train_causal_lm(CausalLM& model, const at::Tensor& train_ids, const at::Tensor& valid_windows,
                            const TrainOptions& o, const fs::path& work_dir, RunContext& ctx) {
  if (train_ids.dim() != 1 || train_ids.size(0) < o.seqlen + 2)
    throw DataError(fmt::format("training needs a token stream longer than seqlen + 1 = {}", o.seqlen + 1));
  // A checkpoint is written whole into checkpoint.new/ and then swapped in by renames, so a kill
  // at any moment leaves either the previous checkpoint or the new one, never a mix of the two.
  const fs::path ckpt = work_dir / "checkpoint", ckpt_new = work_dir / "checkpoint.new",
                 ckpt_old = work_dir / "checkpoint.old";
  if (!fs::exists(ckpt / "state.json") && fs::exists(ckpt_old / "state.json")) {
    fs::remove_all(ckpt);
    fs::rename(ckpt_old, ckpt);  // killed between the two renames of a swap
  }
  fs::remove_all(ckpt_new);
  fs::remove_all(ckpt_old);
  fs::create_directories(ckpt);
  const fs::path state_path = ckpt / "state.json";
  const fs::path log_path = work_dir / "log.csv";

  // Parameters that train: every named parameter slot that is defined (tied embeddings once).
  std::map<std::string, at::Tensor> params;
  std::vector<std::string> decay;
  for (auto& np : model.named_parameters()) {
    if (!np.tensor || !np.tensor->defined()) continue;
    np.tensor->set_requires_grad(true);
    params[np.name] = *np.tensor;
    if (np.tensor->dim() >= 2 && np.name.find("embed_tokens") == std::string::npos) decay.push_back(np.name);
  }
  AdamWOptions ao;
  ao.lr = o.lr;
  ao.weight_decay = o.weight_decay;
  AdamW opt(params, decay, ao);

  int64_t start = 0;
  double elapsed_before = 0;
  if (fs::exists(state_path)) {
    std::ifstream in(state_path);
    nlohmann::json st = nlohmann::json::parse(in);
    if (st.at("options") != options_json(o, model))
      throw ConfigError(fmt::format("{} holds a checkpoint made with other options ({}); remove {} to start over",
                                    work_dir.string(), st.at("options").dump(), ckpt.string()));
    SafetensorsFile weights(ckpt / "model.safetensors");
    SafetensorsFile moments(ckpt / "optimizer.safetensors");
    {
      at::NoGradGuard no_grad;
      for (auto& [name, t] : params) t.copy_(weights.get(name));
    }
    std::map<std::string, at::Tensor> ostate;
    for (const auto& name : moments.names()) ostate[name] = moments.get(name);
    start = st.at("step").get<int64_t>();
    elapsed_before = st.value("elapsed_s", 0.0);
    opt.load_state(ostate, start);
    ctx.log().info("resuming training at step {} of {}", start, o.steps);
  }

  TrainResult result;
  result.log = read_log(log_path, start);
  // Rows logged after the checkpoint we resume from will be logged again: drop them.
  {
    std::ofstream out(log_path, std::ios::trunc);
    out << "step,lr,train_loss,valid_ppl,elapsed_s\n";
  }
  for (const auto& p : result.log) append_row(log_path, p);
  std::vector<at::Tensor> plist;
  for (auto& [n, t] : params) plist.push_back(t);
  auto progress = ctx.progress("train", o.steps);
  progress->set(start);
  Stopwatch clock;
  double running = 0;
  int64_t running_n = 0;

  auto checkpoint = [&](int64_t step) {
    std::vector<std::pair<std::string, at::Tensor>> w, m;
    for (auto& [n, t] : params) w.emplace_back(n, t.detach());
    for (auto& [n, t] : opt.state()) m.emplace_back(n, t);
    fs::remove_all(ckpt_new);
    fs::create_directories(ckpt_new);
    save_safetensors(ckpt_new / "model.safetensors", w, {});
    save_safetensors(ckpt_new / "optimizer.safetensors", m, {});
    nlohmann::json st = {{"step", step}, {"options", options_json(o, model)}, {"elapsed_s", elapsed_before + clock.seconds()}};
    write_file_atomic(ckpt_new / "state.json", st.dump(2));
    fs::rename(ckpt, ckpt_old);
    fs::rename(ckpt_new, ckpt);
    fs::remove_all(ckpt_old);
  };

  if (o.stop_after > 0 && start >= o.stop_after && start < o.steps) {  // already past the stop
    for (auto& [n, t] : params) t.set_requires_grad(false);
    result.steps = start;
    return result;
  }
  for (int64_t step = start; step < o.steps; ++step) {
    double lr = warmup_cosine_lr(step, o.warmup, o.steps, o.lr, o.min_lr);
    at::Tensor batch = sample_batch(train_ids, o, step);
    at::Tensor loss = batch_loss(model, batch);
    opt.zero_grad();
    loss.backward();
    double loss_v = loss.item<double>();
    if (!std::isfinite(loss_v)) throw NumericalError(fmt::format("training loss is {} at step {}", loss_v, step));
    clip_grad_norm(plist, o.grad_clip);
    opt.step(lr);
    running += loss_v;
    ++running_n;
    progress->note(fmt::format("loss {:.3f} lr {:.2e}", loss_v, lr));
    progress->advance();

    const int64_t done = step + 1;
    bool eval_now = done % o.eval_every == 0 || done == o.steps;
    if (done % 10 == 0 || eval_now) {
      TrainLogPoint p;
      p.step = done;
      p.lr = lr;
      p.train_loss = running / static_cast<double>(running_n);
      p.elapsed_s = elapsed_before + clock.seconds();
      running = 0, running_n = 0;
      if (eval_now) {
        p.valid_ppl = std::exp(mean_next_token_loss(model, valid_windows, 8));
        ctx.log().info("step {}: train loss {:.4f}, held-out ppl {:.3f}", done, p.train_loss, p.valid_ppl);
        result.final_valid_ppl = p.valid_ppl;
      }
      append_row(log_path, p);
      result.log.push_back(p);
    }
    const bool stop = o.stop_after > 0 && done >= o.stop_after && done < o.steps;
    if (done % o.checkpoint_every == 0 || done == o.steps || stop) checkpoint(done);
    if (stop) {
      for (auto& [n, t] : params) t.set_requires_grad(false);
      result.steps = done;
      return result;
    }
  }
  progress->finish();
  for (auto& [n, t] : params) t.set_requires_grad(false);
  result.steps = o.steps;
  result.finished = true;
  if (result.final_valid_ppl == 0) result.final_valid_ppl = std::exp(mean_next_token_loss(model, valid_windows, 8));
  return result;
}

}  // namespace repro
