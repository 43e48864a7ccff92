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

# Serial: libtorch's default random generator is process-wide, and several suites check exact
# reproducibility of seeded runs; libtorch's own threads keep the cores busy anyway.
test:
	@scripts/setup.sh --test
	$(SWIFT) build --build-tests $(SWIFT_FLAGS)
	$(SWIFT) test --skip-build --no-parallel $(SWIFT_FLAGS) 2>&1 | tee .build/test.log; exit $${PIPESTATUS[0]}

demo: release
	@scripts/demo.sh

# The Python reference stack (torch, transformers, peft, tokenizers): only for writing fixtures
# and for side-by-side benchmarks, never at run time.
venv: $(VENV)/.ready
$(VENV)/.ready: tools/requirements.txt
	python3 -m venv $(VENV)
	PIP_FIND_LINKS= $(VENV)/bin/pip install -q -r tools/requirements.txt
	touch $@

# Regenerates the committed fixtures under Tests/Fixtures from tools/fixtures/*.py.
fixtures: venv
	@for f in tools/fixtures/*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

bench: release venv
	@scripts/bench.sh

clean:
	rm -rf .build
