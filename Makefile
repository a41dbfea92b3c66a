# Two commands set everything up:  `make dev` (the local stack) and `make test` (the whole suite).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

# Local stack settings (override on the command line: make dev API_PORT=9000)
HOST ?= 127.0.0.1
API_PORT ?= 8080
UI_PORT ?= 8501
DATA_DIR ?= .local/data
WORKERS ?= 4
# Async jobs: the local S3/SQS server's port, job workers, their timeout (the visibility timeout is 6x)
AWS_PORT ?= 4566
JOB_WORKERS ?= 2
JOB_WORKER_TIMEOUT ?= 60

MODEL_DIR := models/digits
MODEL_FILES := $(MODEL_DIR)/model.onnx $(MODEL_DIR)/metadata.json

.PHONY: venv dev test lint format typecheck pytest model bench clean

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt inference_image/requirements.txt ui_image/requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

model: $(STAMP)
	$(PY) scripts/train_model.py --out $(MODEL_DIR)

# Built only when missing: the committed model is what `make dev` and `pulumi up` publish.
$(MODEL_FILES): | $(STAMP)
	$(PY) scripts/train_model.py --out $(MODEL_DIR)

dev: $(STAMP) $(MODEL_FILES)
	$(PY) -m local.dev --host $(HOST) --api-port $(API_PORT) --ui-port $(UI_PORT) \
		--data-dir $(DATA_DIR) --workers $(WORKERS) --model-dir $(MODEL_DIR) \
		--aws-port $(AWS_PORT) --job-workers $(JOB_WORKERS) --job-worker-timeout $(JOB_WORKER_TIMEOUT)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

pytest: $(STAMP)
	$(VENV)/bin/pytest -q -rs -p no:cacheprovider $(PYTEST_ARGS)

test: lint typecheck pytest

bench: $(STAMP) $(MODEL_FILES)
	$(PY) -m bench.run_all

clean:
	rm -rf $(VENV) .local .pytest_cache .mypy_cache .ruff_cache test-artifacts
