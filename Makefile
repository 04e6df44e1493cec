# Two commands on a fresh machine:  `make run`  and  `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
LFW    ?= ../shared/data/lfw
# The main job: audit a few LFW photos (members and non-members of the demo pair) on the CPU.
RUN_IMAGES ?= $(LFW)/images/Alvaro_Uribe $(LFW)/images/Aaron_Peirsol

.PHONY: setup run test bench demo exe clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -c constraints.txt torch==2.13.0
	$(PY) -m pip install -q -c constraints.txt -e '.[test]'
	touch $@

run: setup
	$(PY) -m mint_tui audit --device cpu $(RUN_IMAGES)

test: setup
	$(PY) -m pytest -q

demo: setup
	$(PY) scripts/build_demo.py --lfw $(LFW)

clean:
	rm -rf $(VENV) build dist *.egg-info
