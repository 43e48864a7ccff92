# csm-swift: `make demo` runs the whole pipeline on generated data; `make test` runs every test.
SHELL := /bin/bash
SWIFT ?= swift
SWIFT_FLAGS ?=
VENV := tools/.venv
PY := $(VENV)/bin/python

.PHONY: setup build release test demo venv fixtures bench clean cuda-companion device-build

# Debian packages + libtorch (pinned torch wheel from PyPI, or LIBTORCH=/path/to/torch).
# CUDA=1: also the CUDA companion (libctorch_cuda.so), from the reference venv's pinned wheels (make cuda-companion).
setup:
	@scripts/setup.sh
	@if [ "$(CUDA)" = 1 ]; then $(MAKE) --no-print-directory cuda-companion; fi

# The CUDA companion, when built (.build/cuda), goes next to the binaries, where csm looks for it.
COMPANION_BESIDE = @if [ -f .build/cuda/libctorch_cuda.so ]; then cp .build/cuda/libctorch_cuda.so $(1)/; fi

build: setup
	$(SWIFT) build $(SWIFT_FLAGS)
	$(call COMPANION_BESIDE,.build/debug)

release: setup
	$(SWIFT) build -c release $(SWIFT_FLAGS) --product csm
	$(call COMPANION_BESIDE,.build/release)

# The suites that compare our numerics with committed fixtures, rerun by the portability pass below.
PARITY_SUITES := OpParityTests AdamWTests ModelGradientTests RuntimeTests ForwardParityTests GradientParityTests \
  LoRATests AdapterExportTests EvaluateTests QuantizedLinearTests QuantizationFidelityTests NF4ParityTests \
  NF4TensorTests NF4LinearTests NF4TrainingTests MimiParityTests MimiBatchTests MimiStreamingTests \
  GenerationParityTests SamplingTests BatchGenerationTests TrainingMemoryTests MixedPrecisionTests TrainParityTests \
  DemoModelTests ProcessorParityTests WhisperParityTests WavLMParityTests
EMPTY :=
SPACE := $(EMPTY) $(EMPTY)
# One --filter regex, `A|B|…`, with no stray spaces (a space would make a name never match).
PARITY := $(subst $(SPACE),|,$(strip $(PARITY_SUITES)))
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
	@# The CUDA companion is compiled and linked against the venv's CUDA torch (no GPU needed; ~20 s of CPU),
	@# so GPUReadinessTests can check its symbols and that it says "no CUDA device" here.
	scripts/build_cuda_companion.sh
	$(SWIFT) test --skip-build --no-parallel $(SWIFT_FLAGS) 2>&1 | tee .build/test.log; exit $${PIPESTATUS[0]}
	@echo "== portability pass: ATEN_CPU_CAPABILITY=avx2"
	ATEN_CPU_CAPABILITY=avx2 $(AVX2_GEMM) $(SWIFT) test --skip-build --no-parallel $(SWIFT_FLAGS) --filter '$(PARITY)' 2>&1 \
	  | tee .build/test-avx2.log; exit $${PIPESTATUS[0]}
	@echo "== portability pass: ATEN_CPU_CAPABILITY=default"
	ATEN_CPU_CAPABILITY=default $(AVX2_GEMM) $(SWIFT) test --skip-build --no-parallel $(SWIFT_FLAGS) --filter '$(PARITY)' 2>&1 \
	  | tee .build/test-default.log; exit $${PIPESTATUS[0]}

# The optional CUDA companion (tools/cuda/ctorch_cuda.cpp): the CUDA allocator's memory figures and NCCL
# process groups, loaded only with --device cuda. Built against a CUDA torch of the same version as the
# libtorch csm links (TORCH=…, LIBTORCH=… or the reference venv's) and the CUDA runtime / NCCL headers of
# their pinned wheels; see scripts/build_cuda_companion.sh. No GPU needed to build it.
cuda-companion: venv
	scripts/build_cuda_companion.sh

# The static binaries, their libraries and the CUDA companion, packed for a GPU machine without Swift
# (scripts/gpu_check.sh runs there); checks the carried size is under 64 MiB.
device-build: setup venv
	scripts/build_for_device.sh

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
FIXTURES := tokenizer audio torch_ops safetensors_io tensorboard_events nf4 mimi csm autocast dataset generation train \
  demo_model whisper wavlm wer
fixtures: venv
	@for f in $(FIXTURES); do echo "== tools/fixtures/$$f.py"; $(PY) tools/fixtures/$$f.py || exit 1; done
	@missing=$$(cd tools/fixtures && for f in *.py; do case " $(FIXTURES) " in *" $${f%.py} "*) ;; *) echo $$f;; esac; done); \
	  [ -z "$$missing" ] || { echo "tools/fixtures: not in FIXTURES (Makefile): $$missing"; exit 1; }

bench: release venv
	@scripts/bench.sh

clean:
	rm -rf .build
