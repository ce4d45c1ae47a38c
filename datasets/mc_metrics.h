#pragma once
// Scoring multiple-choice requests the way lm-evaluation-harness v0.4.x does:
//   acc      = [argmax_i ll_i == gold]
//   acc_norm = [argmax_i ll_i / len(choice_i) == gold], len = number of characters (Python len(),
//              Unicode code points) of lm-eval's doc_to_choice string, without the " " delimiter.
//              (lm-eval's byte-length variant is `acc_bytes`; for ASCII text they agree.)
// argmax is numpy's: the first maximum wins; a NaN counts as the maximum.
// A task's score is the mean over its documents; an average over tasks is a plain mean of the
// per-task numbers (each task's reported metric, mc_task_info(task).metric).

#include <cstddef>
#include <string>
#include <vector>

#include "datasets/zero_shot.h"

namespace repro {

struct McPrediction {
  int pred = -1;       // argmax of the log-likelihoods
  int pred_norm = -1;  // argmax of the length-normalised log-likelihoods
};

struct McScore {
  double acc = 0;
  double acc_norm = 0;
  size_t count = 0;
  // The metric named "acc" or "acc_norm"; ConfigError for any other name.
  double metric(const std::string& name) const;
};

// loglikelihoods: one per choice (size request.num_choices(), else ConfigError).
McPrediction mc_predict(const McRequest& request, const std::vector<double>& loglikelihoods);

// Per-document log-likelihoods, aligned with `requests`. Empty -> count 0, scores 0.
McScore mc_score(const std::vector<McRequest>& requests, const std::vector<std::vector<double>>& loglikelihoods);

// The number a paper reports for `task` (acc_norm for piqa, hellaswag, arc_*, openbookqa; acc else).
double mc_reported(const std::string& task, const McScore& score);

// Plain mean over tasks (the papers' "Avg" column); ConfigError when empty.
double mc_average(const std::vector<double>& per_task);

}  // namespace repro
