#include "methods/common/pruner_step.h"

#include "core/registry.h"

namespace repro {

ParamSpec pruner_param() {
  return param_string("pruner", "sparsegpt", "the pruning solver of the sparse step", {"sparsegpt", "alps"});
}

std::unique_ptr<LayerCompressor> make_pruner(const std::string& name, const Params& params,
                                             const Value::Table& extra) {
  Value::Table t;
  for (const char* key : {"sparsity", "pattern", "percdamp", "hess_diag", "hess_percdamp"})
    if (params.has(key)) t[key] = params.at(key);
  if (params.has("mask_solver")) {
    // The component as a row would write it: { method = "...", <its parameters> }.
    const ComponentParams& c = params.get_component("mask_solver");
    Value::Table solver = c.params ? c.params->values() : Value::Table{};
    solver["method"] = Value(c.method);
    t["mask_solver"] = Value(solver);
  }
  for (const auto& [key, value] : extra) t[key] = value;  // the caller's keys win (e.g. a per-layer sparsity)
  auto m = Registry<LayerCompressor>::instance().create(name);
  m->configure(Params::validate(Value(t), m->info().params, "pruner '" + name + "'"));
  return m;
}

}  // namespace repro
