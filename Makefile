# csm-swift: `make demo` runs the whole pipeline on generated data; `make test` runs every test.
SHELL := /bin/bash
SWIFT ?= swift
SWIFT_FLAGS ?=
VENV := tools/.venv
PY := $(VENV)/bin/python

.PHONY: setup build release test demo venv fixtures bench clean

# Debian packages + libtorch (pinned torch wheel from PyPI, or LIBTORCH=/path/to/torch).
setup:
	@scripts/setup.sh

build: setup
	$(SWIFT) build $(SWIFT_FLAGS)

release: setup
	$(SWIFT) build -c release $(SWIFT_FLAGS) --product csm

# The suites that compare our numerics with committed fixtures, rerun by the portability pass below.
PARITY := OpParityTests|AdamWTests|ModelGradientTests|RuntimeTests|ForwardParityTests|GradientParityTests|LoRATests|QuantizedLinearTests|QuantizationFidelityTests|\
  AdapterExportTests|EvaluateTests|NF4ParityTests|NF4TensorTests|NF4LinearTests|NF4TrainingTests|MimiParityTests|\
  MimiBatchTests|GenerationParityTests|SamplingTests|TrainingMemoryTests|TrainParityTests|DemoModelTests|ProcessorParityTests
# GEMM libraries held to AVX2 in both reruns: the floor csm-swift supports.
AVX2_GEMM := ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2

# Serial: libtorch's default random generator is process-wide, and several suites check exact
# reproducibility of seeded runs; libtorch's own threads keep the cores busy anyway.
# Then the portability pass: the parity suites again with libtorch's kernel dispatch forced down to AVX2
# and to its portable `default` kernels, so a CPU without AVX512 or bf16 instructions is covered on any
# machine (torch picks kernels per instruction set, and the fixtures hold within stated tolerances on all).
# The reference venv (cached in tools/.venv) lets the ecosystem's own readers check our files.
test: venv
	@scripts/setup.sh --test
	$(SWIFT) build --build-tests $(SWIFT_FLAGS)
	$(SWIFT) test --skip-build --no-parallel $(SWIFT_FLAGS) 2>&1 | tee .build/test.log; exit $${PIPESTATUS[0]}
	@echo "== portability pass: ATEN_CPU_CAPABILITY=avx2"
	ATEN_CPU_CAPABILITY=avx2 $(AVX2_GEMM) $(SWIFT) test --skip-build --no-parallel $(SWIFT_FLAGS) --filter '$(PARITY)' 2>&1 \
	  | tee .build/test-avx2.log; exit $${PIPESTATUS[0]}
	@echo "== portability pass: ATEN_CPU_CAPABILITY=default"
	ATEN_CPU_CAPABILITY=default $(AVX2_GEMM) $(SWIFT) test --skip-build --no-parallel $(SWIFT_FLAGS) --filter '$(PARITY)' 2>&1 \
	  | tee .build/test-default.log; exit $${PIPESTATUS[0]}

demo: release
	@scripts/demo.sh

# The Python reference stack (torch, transformers, peft, tokenizers): only for writing fixtures
# and for side-by-side benchmarks, never at run time.
venv: $(VENV)/.ready
$(VENV)/.ready: tools/requirements.txt
	python3 -m venv $(VENV)
	PIP_FIND_LINKS= $(VENV)/bin/pip install -q -r tools/requirements.txt
	touch $@

# Regenerates every committed fixture under Tests/Fixtures, in dependency order: csm.py writes the tiny CSM
# (Tests/Fixtures/csm/tiny) that dataset.py, generation.py and train.py read; tokenizer.py writes the tokenizer
# dataset.py reads. Checks of our outputs by the ecosystem's readers live in tools/checks/, not here.
FIXTURES := tokenizer audio torch_ops safetensors_io tensorboard_events nf4 mimi csm dataset generation train demo_model
fixtures: venv
	@for f in $(FIXTURES); do echo "== tools/fixtures/$$f.py"; $(PY) tools/fixtures/$$f.py || exit 1; done
	@missing=$$(cd tools/fixtures && for f in *.py; do case " $(FIXTURES) " in *" $${f%.py} "*) ;; *) echo $$f;; esac; done); \
	  [ -z "$$missing" ] || { echo "tools/fixtures: not in FIXTURES (Makefile): $$missing"; exit 1; }

bench: release venv
	@scripts/bench.sh

clean:
	rm -rf .build
