#include "models/forward_sim.h"

#include "models/llama.h"

namespace repro {

QuantSimPause::QuantSimPause(CausalLM& model) : model_(model) {
  for (int64_t i = 0; i < model_.num_layers(); ++i) {
    ForwardSim& s = model_.block(i).sim;
    s.paused = !s.quant_during_calibration;
  }
}

QuantSimPause::~QuantSimPause() {
  for (int64_t i = 0; i < model_.num_layers(); ++i) model_.block(i).sim.paused = false;
}

}  // namespace repro
