#include "datasets/mc_metrics.h"

#include <cmath>

#include <fmt/format.h>

#include "core/error.h"
#include "datasets/detail/py_text.h"

namespace repro {

namespace {

int argmax(const std::vector<double>& v) {
  int best = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    if (std::isnan(v[i])) return static_cast<int>(i);
    if (v[i] > v[static_cast<size_t>(best)]) best = static_cast<int>(i);
  }
  return best;
}

}  // namespace

double McScore::metric(const std::string& name) const {
  if (name == "acc") return acc;
  if (name == "acc_norm") return acc_norm;
  throw ConfigError(fmt::format("unknown multiple-choice metric '{}' (use acc or acc_norm)", name));
}

McPrediction mc_predict(const McRequest& request, const std::vector<double>& loglikelihoods) {
  if (loglikelihoods.size() != request.num_choices() || loglikelihoods.empty())
    throw ConfigError(fmt::format("{} log-likelihoods given for a request with {} choices", loglikelihoods.size(),
                                  request.num_choices()));
  std::vector<double> normed(loglikelihoods.size());
  for (size_t i = 0; i < normed.size(); ++i)
    normed[i] = loglikelihoods[i] / static_cast<double>(detail::py_len(request.choices[i]));
  return {argmax(loglikelihoods), argmax(normed)};
}

McScore mc_score(const std::vector<McRequest>& requests, const std::vector<std::vector<double>>& loglikelihoods) {
  if (requests.size() != loglikelihoods.size())
    throw ConfigError(fmt::format("{} requests but {} log-likelihood lists", requests.size(), loglikelihoods.size()));
  McScore s;
  s.count = requests.size();
  if (requests.empty()) return s;
  size_t hits = 0, hits_norm = 0;
  for (size_t k = 0; k < requests.size(); ++k) {
    McPrediction p = mc_predict(requests[k], loglikelihoods[k]);
    hits += p.pred == requests[k].gold;
    hits_norm += p.pred_norm == requests[k].gold;
  }
  s.acc = static_cast<double>(hits) / static_cast<double>(s.count);
  s.acc_norm = static_cast<double>(hits_norm) / static_cast<double>(s.count);
  return s;
}

double mc_reported(const std::string& task, const McScore& score) {
  return score.metric(mc_task_info(task).metric);
}

double mc_average(const std::vector<double>& per_task) {
  if (per_task.empty()) throw ConfigError("cannot average over zero tasks");
  double sum = 0;
  for (double v : per_task) sum += v;
  return sum / static_cast<double>(per_task.size());
}

}  // namespace repro
