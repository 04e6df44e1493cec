# Two commands on a fresh machine:  `make run`  and  `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
LFW    ?= ../shared/data/lfw
# The main job: audit the sample LFW photos the package ships (assets/samples: one member of the demo
# pairs' training data, two non-members) on the CPU, with the bank-free default pair and with the banked one.
RUN_IMAGES ?= assets/samples

.PHONY: setup run test test-fast bench demo exe exe-smoke clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -c constraints.txt torch==2.13.0
	$(PY) -m pip install -q -c constraints.txt -e '.[test]'
	# Optional: tests/test_formats.py compares with facenet-pytorch's own class. Its package metadata pins
	# an old torch and torchvision, so it goes in without dependencies; the test skips if it is absent.
	-$(PY) -m pip install -q --no-deps facenet-pytorch==2.6.0
	touch $@

run: setup
	@echo "== the default pair, demo-lfw-cnn: stores no member data (single photos are mostly inconclusive)"
	$(PY) -m mint_tui audit --device cpu --group-by folder $(RUN_IMAGES)
	@echo "== demo-lfw-cnn-bank: holds 1,024 member face embeddings, which makes members and non-members clear"
	$(PY) -m mint_tui audit --device cpu --group-by folder --pair demo-lfw-cnn-bank $(RUN_IMAGES)

# The tests also install the optional Ray extra (pip install 'mint-tui[ray]', for tests/test_ray_audit.py):
# about 20 s and 500 MB more. `make setup`, `make run` and the executable leave it out.
test: setup $(VENV)/.ray-installed
	$(PY) -m pytest -q

$(VENV)/.ray-installed: $(VENV)/.installed
	$(PY) -m pip install -q -c constraints.txt -e '.[ray]'
	touch $@

# The inner loop: everything but the tests marked slow (real audits, Pilot-driven TUI, snapshots).
test-fast: setup
	$(PY) -m pytest -q -m "not slow"

demo: setup
	$(PY) scripts/build_demo.py --lfw $(LFW)

# Standalone executable (README "Standalone executable"): dist/mint-tui; EXE_ARGS=--onedir or --both.
exe: setup
	bash scripts/build_exe.sh $(EXE_ARGS)

# Build it, then test it using only the executable (scores identical to the package, TUI under tmux).
exe-smoke: setup
	$(PY) scripts/exe_smoke.py --build-args="$(EXE_ARGS)"

clean:
	rm -rf $(VENV) build dist *.egg-info
