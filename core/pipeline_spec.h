#pragma once
// A row's pipeline written as one line, the way tables print it (RowSpec::pipeline()):
//
//   gptq(bits=4,group_size=128)
//   smoothquant(alpha=0.5)+gptq(bits=4)+transformer_matching(epochs=1,lr=1e-4)
//   sparsegpt(pattern=2:4,mask_solver=tsenor(iters=300))
//
// Components are joined by '+'; each is a plugin name with optional `key=value` parameters in
// parentheses. Values: true/false, integers, floats (1e-4), strings (bare, or "double-quoted" when
// they hold , ( ) [ ] + =), lists [a,b] and nested components name(k=v). "dense" (or an empty
// spec) is the pipeline without components. The canonical spec of any row parses back to it.
//
// The text becomes a one-row table of a suite and goes through TableSpec::parse, so a pipeline
// given on the command line is validated exactly like a [[rows]] entry (unknown keys, ranges,
// cross-parameter rules), and each component lands in the suite slot whose family holds it.

#include <string>

#include "core/table_spec.h"
#include "core/value.h"

namespace repro {

// The components of `spec` as row-style tables {method = "gptq", bits = 4, ...}, in the order
// written. ConfigError naming the offending column on a syntax error.
Value::Array parse_pipeline_components(const std::string& spec);

// One validated row of `suite` running `spec` with the given suite parameters (unset ones take the
// suite's defaults). ConfigError when a method is unknown or belongs to none of the suite's slots,
// when a single-component slot is given twice, on invalid parameters, or when a list value would
// sweep (a pipeline names one row).
RowSpec pipeline_row(const std::string& spec, const std::string& suite, const Value::Table& suite_params,
                     const std::string& label = "pipeline");

}  // namespace repro
