# ssm-warden developer entry points. `make demo` and `make test` work on a fresh machine: they build
# the virtual environment from the pinned requirements first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# A python3.12 interpreter: pyenv's if there is one (these machines), else whatever is on PATH.
PYTHON312 ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12) $(shell command -v python3.12 2>/dev/null))
VENV := .venv
TOOLS_VENV := .venv-tools
# checkov and parliament (template linters) pin boto3 apart from aws-sam-cli: their own venv.
LINT_VENV := .venv-lint
TEMPLATES := template.yaml template-member.yaml
PY := $(VENV)/bin/python
# sam build for Runtime python3.12 needs python3.12 on PATH.
SAM_PATH := $(dir $(PYTHON312)):$(PATH)
SAM := PATH="$(SAM_PATH)" AWS_DEFAULT_REGION=us-east-1 SAM_CLI_TELEMETRY=0 $(TOOLS_VENV)/bin/sam

.PHONY: help venv tools lint-tools preflight deploy test unit integration e2e faults lint format typecheck validate lint-template build demo bench docs pr clean

help:
	@echo "make demo      run ssm-warden locally (moto server + local Slack sink), no AWS account"
	@echo "make test      the whole test suite (unit, integration against moto server, e2e)"
	@echo "make lint      ruff + mypy;  make validate: sam validate --lint;  make build: sam build"
	@echo "make preflight check your AWS account for the prerequisites;  make deploy: preflight, build, sam deploy"
	@echo "make lint-template  cfn-lint, checkov and parliament (IAM) over the templates"
	@echo "make faults    fault-injection suite (Slack, SSM, DynamoDB, SQS, CloudTrail, malformed input): faults x outcomes table"
	@echo "make bench     benchmarks (figures printed as JSON lines)"
	@echo "make pr        everything CI runs"

$(VENV)/.installed: requirements-dev.txt layers/common/requirements.txt pyproject.toml
	@test -n "$(PYTHON312)" || { echo "python3.12 not found: install it (pyenv install 3.12) and retry" >&2; exit 1; }
	$(PYTHON312) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $@

# The shipped YAML (rule packs, their lists) parsed once at build time, for the functions' cold starts
# and the bundled policy (ssm_warden/compiled_yaml.py); the functions parse the YAML themselves when it
# is missing or stale.
PRECOMPILED := layers/common/ssm_warden/_compiled_yaml.json
PRECOMPILED_FROM := layers/common/ssm_warden/compiled_yaml.py layers/common/ssm_warden/policy/default.yaml layers/common/ssm_warden/policy/bounded_yaml.py $(wildcard layers/common/ssm_warden/detect/*.yaml layers/common/ssm_warden/detect/packs/*.yaml layers/common/ssm_warden/detect/windows/packs/*.yaml)

$(PRECOMPILED): $(VENV)/.installed $(PRECOMPILED_FROM)
	$(PY) -m ssm_warden.compiled_yaml

venv: $(VENV)/.installed $(PRECOMPILED)

$(TOOLS_VENV)/.installed: requirements-tools.txt
	@test -n "$(PYTHON312)" || { echo "python3.12 not found" >&2; exit 1; }
	$(PYTHON312) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/python -m pip install -q --upgrade pip
	$(TOOLS_VENV)/bin/python -m pip install -q -r requirements-tools.txt
	touch $@

tools: $(TOOLS_VENV)/.installed

$(LINT_VENV)/.installed: requirements-lint.txt
	@test -n "$(PYTHON312)" || { echo "python3.12 not found" >&2; exit 1; }
	$(PYTHON312) -m venv $(LINT_VENV)
	$(LINT_VENV)/bin/python -m pip install -q --upgrade pip
	$(LINT_VENV)/bin/python -m pip install -q -r requirements-lint.txt
	touch $@

lint-tools: $(LINT_VENV)/.installed

test: venv
	$(PY) -m pytest -q tests

unit: venv
	$(PY) -m pytest -q tests/unit

integration: venv
	$(PY) -m pytest -q tests/integration

e2e: venv
	$(PY) -m pytest -q tests/e2e

# The fault-injection suite alone; it prints a table of faults x outcomes at the end.
faults: venv
	$(PY) -m pytest -q tests/integration/faults

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

typecheck: venv
	$(VENV)/bin/mypy

validate: tools
	$(SAM) validate --lint
	$(SAM) validate --lint --template template-member.yaml

# Offline: checkov's --skip-download keeps it from calling home; parliament's IAM data ships with it.
lint-template: tools lint-tools
	$(TOOLS_VENV)/bin/cfn-lint $(TEMPLATES)
	$(LINT_VENV)/bin/checkov --config-file .checkov.yaml $(addprefix -f ,$(TEMPLATES))
	PYTHONPATH=devtools $(LINT_VENV)/bin/python -m ssm_warden_local.iam_lint $(TEMPLATES)

# After sam build: bytecode for every module of the layer and the functions. SAM's Python builder
# leaves out *.pyc and Lambda's /opt is read-only, so without this every cold start compiles every
# module it imports from source (~100 ms of ssm_warden alone). checked-hash: a .pyc whose source
# changed is ignored, never run.
build: tools $(PRECOMPILED)
	$(SAM) build
	$(PYTHON312) -m compileall -q -j 0 --invalidation-mode checked-hash .aws-sam/build

# Deploying to your account: preflight first (read-only; exit 1 names what is missing), then sam deploy
# with your own, untracked config file (guided the first time). Region: your profile's or AWS_REGION.
SAM_DEPLOY := PATH="$(SAM_PATH)" SAM_CLI_TELEMETRY=0 $(TOOLS_VENV)/bin/sam
preflight: venv
	$(VENV)/bin/ssm-warden preflight $(PREFLIGHT_ARGS)

deploy: preflight build
	$(SAM_DEPLOY) deploy --config-file samconfig.local.toml $(if $(wildcard samconfig.local.toml),,--guided)

demo: venv
	$(PY) -m ssm_warden_local.demo

bench: venv
	$(PY) -m bench

pr: lint test validate lint-template build

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache .demo
