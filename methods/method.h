#pragma once
// The base of every method plugin. A plugin derives from Method through exactly one family
// interface (methods/api/<family>.h) and registers with one line in its .cpp:
//     REPRO_REGISTER_METHOD(LayerCompressor, Gptq)
// Adding a method or a family: methods/README.md.

#include "core/params.h"
#include "core/registry.h"

namespace repro {

class RunContext;

class Method {
 public:
  virtual ~Method() = default;
  virtual const MethodInfo& info() const = 0;
  // Called with parameters already validated against info().params (types, defaults, ranges,
  // nested components). Cross-parameter rules belong here and throw ConfigError via params.fail().
  // It also runs on a throw-away instance for every row when a table loads (so a bad row is
  // reported before any row runs): it must look at parameters only and be cheap. Components
  // (params.get_component) are created here, once per row: Registry<Family>::instance().create(c).
  virtual void configure(const Params& params) = 0;
};

}  // namespace repro
