# Two commands matter on a fresh machine with Python 3.11+ and make: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
STAGE ?= prod

.PHONY: install run aws tick test soak package bench load set-webhook webhook-info clean operator

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

## The whole local stack: AWS emulator, API, SQS workers, scheduler, Telegram sandbox (a web chat).
## With your own bot instead of the sandbox: export TELEGRAM_BOT_TOKEN=<token>; TGSHOP_SANDBOX=off make run
run: $(STAMP)
	$(BIN)/python -m devstack run

## Only the AWS emulator with tables, queues and settings (for a plain `chalice local --stage local`).
aws: $(STAMP)
	$(BIN)/python -m devstack aws

## Run one scheduled handler now against the running local stack: make tick JOB=expire_orders
tick: $(STAMP)
	$(BIN)/python -m devstack tick $(JOB)

## A panel operator in the running local stack (asks for the password): make operator NAME=alice ROLE=owner
ROLE ?= operator
operator: $(STAMP)
	$(BIN)/python -m devstack.operator create $(NAME) --role $(ROLE)

## Three workers on two cores: the suites that start the real local stack (smoke, browser) run one at a time in
## one of them (a checkout publishes one stack's emulator URL; tests/conftest.py groups them), which mostly
## waits on the stack and the browser; the other two run everything else beside it.
test: $(STAMP)
	$(BIN)/python -m pytest -n 3 --dist loadgroup

## The ledger model test at length: SOAK_STEPS random steps (100,000 by default, about an hour on 2 cores;
## docs/benchmarks.md) against the app. Its last line ends "unaccounted micro-units: 0"; kept in build/.
SOAK_STEPS ?= 100000
soak: $(STAMP)
	@mkdir -p build
	{ TGSHOP_LEDGER_MODEL_STEPS=$(SOAK_STEPS) $(BIN)/python -m pytest tests/model -q; echo $$? > build/soak.status; } \
		2>&1 | tee build/ledger-model-soak.txt
	@exit "$$(cat build/soak.status)"

package: $(STAMP)
	rm -rf build/package
	AWS_DEFAULT_REGION=us-east-1 $(BIN)/chalice package --stage $(STAGE) --merge-template infra/resources.yaml build/package
	$(BIN)/python -m devstack prune-bundle build/package/deployment.zip
	$(BIN)/python -m devstack compile-bundle build/package/deployment.zip
	$(BIN)/python -m devstack stage-template build/package/sam.yaml $(STAGE)
	$(BIN)/cfn-lint build/package/sam.yaml

bench: $(STAMP)
	$(BIN)/python -m bench

## A bounded load run on the local stack against a bare Chalice app (writes its section of docs/benchmarks.md)
load: $(STAMP)
	$(BIN)/python -m bench --only load

## Point Telegram at a deployed API (needs TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET, or their
## *_SSM_PARAMETER names): make set-webhook URL=https://<api id>.execute-api.<region>.amazonaws.com/api
set-webhook: $(STAMP)
	$(BIN)/python -m devstack.telegram_admin set-webhook "$(URL)"

webhook-info: $(STAMP)
	$(BIN)/python -m devstack.telegram_admin webhook-info

clean:
	rm -rf build .pytest_cache
