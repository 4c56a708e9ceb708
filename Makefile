# One entry point for newcomers, lecturers and CI. `make help` lists the targets.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
export KERAS_BACKEND := tensorflow
export TF_CPP_MIN_LOG_LEVEL := 2
# nbgrader and papermill start helper programs (alembic, kernels) found on PATH.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: help setup system venv data demo test lint notebooks student-versions benchmark clean

help:
	@echo "make setup            virtual environment + pinned dependencies + offline data"
	@echo "make demo             setup, then grade the sample exam (out/fashion-budget)"
	@echo "make test             the whole test suite"
	@echo "make lint             ruff"
	@echo "make notebooks        regenerate notebooks/*.ipynb from their .py sources"
	@echo "make student-versions nbgrader student versions in build/release/"
	@echo "make benchmark        run every notebook and print time / metric / target"

setup: system venv data

# Debian packages: offline Fashion-MNIST and bubblewrap (the grader's sandbox).
system:
	@if [ ! -d /usr/share/datasets/fashion-mnist ] || ! command -v bwrap >/dev/null; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update && $$SUDO apt-get install -y --no-install-recommends dataset-fashion-mnist bubblewrap; \
	fi

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip

venv: $(PY)
	$(PY) -m pip install -r requirements-dev.txt -e .
	$(PY) -m pip check

data: venv
	$(PY) datasets/provision.py

demo: setup
	$(VENV)/bin/grader grade exams/fashion-budget exams/fashion-budget/sample_submissions --out out/fashion-budget --jobs 2

test:
	$(PY) -m pytest -n 2 --dist loadgroup

lint:
	$(VENV)/bin/ruff check .

notebooks:
	$(VENV)/bin/jupytext --to ipynb --update --update-metadata '{"jupytext": null}' notebooks/[0-9][0-9]_*.py
	$(VENV)/bin/jupytext --to ipynb --update --update-metadata '{"jupytext": null}' exam_template.py

student-versions:
	$(VENV)/bin/nbgrader generate_assignment notebooks --force

benchmark:
	$(PY) -m benchmarks.notebooks

clean:
	rm -rf build out .pytest_cache
