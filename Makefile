# Keepwell: `make run` sets up everything and runs the demo; `make test` sets up everything and runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Two environments (see README): Rasa 3.6 needs Python 3.8-3.10; everything else runs on Python 3.11.
# They live outside the work tree, named by the hash of their requirements and constraints (the full pip freeze),
# so a fresh clone reuses them and any change builds a new one.
find_python = $(shell for p in $(1) $$HOME/.pyenv/versions/$(2)*/bin/$(1) /usr/bin/$(1) /usr/local/bin/$(1); do \
	$$p -c 'import sys' >/dev/null 2>&1 && { echo $$p; break; }; done)
PYTHON311 ?= $(call find_python,python3.11,3.11)
PYTHON310 ?= $(call find_python,python3.10,3.10)
ENV_ROOT ?= $(HOME)/.cache/keepwell/envs
APP_ENV := $(ENV_ROOT)/app-$(shell cat requirements.txt constraints.txt | sha256sum | cut -c1-16)
RASA_ENV := $(ENV_ROOT)/rasa-$(shell cat requirements-rasa.txt constraints-rasa.txt | sha256sum | cut -c1-16)
PY := $(APP_ENV)/bin/python
RASA := $(RASA_ENV)/bin/rasa
MODEL := models/keepwell.tar.gz
# Training examples CSMs added from the console's transcripts (keepwell/conversations/training.py): trained on too.
CONSOLE_NLU := $(wildcard $(or $(KEEPWELL_DATA_DIR),data)/bot/nlu/console_examples.yml)
BOT_DATA := config.yml domain.yml $(shell find bot -name '*.yml' 2>/dev/null) $(CONSOLE_NLU)
N ?= 10000
# `make` runs the demo: seeded customers, demo secrets. A deployment sets KEEPWELL_DEMO_MODE=false and real secrets.
export KEEPWELL_DEMO_MODE ?= true
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export RASA_CACHE_DIRECTORY ?= $(HOME)/.cache/keepwell/rasa-cache

.PHONY: help setup run test test-stories validate train index encoder bench crossval lint clean browser services \
	seed-conversations

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(APP_ENV)/.ready:
	@test -n "$(PYTHON311)" || { echo "Python 3.11 is required (python3.11 not found)"; exit 1; }
	@echo "Creating the Python 3.11 environment in $(APP_ENV)"
	rm -rf $(APP_ENV) && $(PYTHON311) -m venv $(APP_ENV)
	$(APP_ENV)/bin/pip install --disable-pip-version-check -q --upgrade pip==24.3.1
	$(APP_ENV)/bin/pip install --disable-pip-version-check -r requirements.txt -c constraints.txt
	@find $(ENV_ROOT) -maxdepth 1 -name 'app-*' ! -path '$(APP_ENV)' -exec rm -rf {} +
	touch $@

$(RASA_ENV)/.ready:
	@test -n "$(PYTHON310)" || { echo "Python 3.10 is required for Rasa 3.6 (python3.10 not found)"; exit 1; }
	@echo "Creating the Rasa (Python 3.10) environment in $(RASA_ENV)"
	rm -rf $(RASA_ENV) && $(PYTHON310) -m venv $(RASA_ENV)
	$(RASA_ENV)/bin/pip install --disable-pip-version-check -q --upgrade pip==24.3.1
	$(RASA_ENV)/bin/pip install --disable-pip-version-check -r requirements-rasa.txt -c constraints-rasa.txt
	@find $(ENV_ROOT) -maxdepth 1 -name 'rasa-*' ! -path '$(RASA_ENV)' -exec rm -rf {} +
	touch $@

setup: $(APP_ENV)/.ready $(RASA_ENV)/.ready ## create both environments (reused while requirements are unchanged)

# The Rasa pipeline's MiniLM featurizer reads this ONNX export of the encoder fine-tuned on bot/nlu. nlu.finetune
# always runs: it compares a fingerprint of the examples, settings, code and model with the export's (a second), and
# rewrites the manifest only when it tunes again, which is what makes the Rasa model retrain.
ENCODER := data/encoder/manifest.json
$(ENCODER): FORCE | $(APP_ENV)/.ready
	$(PY) -m nlu.finetune --data bot/nlu --out data/encoder

FORCE:

encoder: $(ENCODER) ## fine-tune the embedding model on the bot's intents and export it to ONNX for Rasa

$(MODEL): $(BOT_DATA) $(ENCODER) nlu/featurizer.py nlu/classifier.py nlu/neighbours.py | $(RASA_ENV)/.ready
	$(RASA) train --data bot $(CONSOLE_NLU) --config config.yml --domain domain.yml --out models --fixed-model-name keepwell

train: $(MODEL) ## train the Rasa model when its data changed

index: $(APP_ENV)/.ready ## build the knowledge-base index when the articles or the model changed
	$(PY) -m knowledge_base build

run: setup train index ## set up everything and run Keepwell under supervisord (a dead part restarts; Ctrl-C stops all)
	$(PY) -m launcher --rasa-bin $(RASA) --model $(MODEL)

validate: $(ENCODER) | $(RASA_ENV)/.ready ## check the Rasa training data
	$(RASA) data validate --data bot --config config.yml --domain domain.yml --fail-on-warnings

test-stories: $(MODEL)
	$(RASA) test core --stories tests/bot/test_stories.yml --model $(MODEL) --fail-on-prediction-errors \
		--out data/rasa-test-results

browser: # Debian's Chromium for the widget and console browser tests (never a downloaded browser)
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }

services: # the local PostgreSQL and Redis the scale-out tests use; started when installed but stopped
	@pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | tail -1) main start
	@pg_isready -h 127.0.0.1 -p 5432
	@redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || redis-server --daemonize yes --bind 127.0.0.1 --port 6379 \
		--save "" --appendonly no
	@redis-cli -h 127.0.0.1 -p 6379 ping

# Three worker processes on two cores: most tests wait on a database, a browser or a child process. A module stays
# on one worker, and so do all the tests on the shared running Keepwell (tests/conftest.py work_unit);
# TEST_WORKERS=0 runs everything in this process.
TEST_WORKERS ?= 3
test: setup lint validate test-stories browser services ## set up everything and run every test
	$(PY) -m pytest tests -n $(TEST_WORKERS) --dist loadscope --rasa-bin $(RASA) --rasa-model $(MODEL)

lint: $(APP_ENV)/.ready ## ruff over the Python 3.11 code
	$(PY) -m ruff check . && $(PY) -m ruff format --check .

bench: setup train $(ENCODER) ## answer quality vs published results, chat latency, API fuzzing, conversation suite, engine import/KPI timings, inbox latency (DATASET=dir: one CSV dataset)
ifdef DATASET
	$(PY) -m benchmarks nlu --dataset $(DATASET) --rasa-bin $(RASA)
	$(PY) -m benchmarks retrieval --dataset $(DATASET)
else
	$(PY) -m benchmarks all --rasa-bin $(RASA)
	$(PY) -m pytest tests/e2e/test_latency.py tests/e2e/test_fuzz.py --rasa-bin $(RASA) --rasa-model $(MODEL) -s -m bench
	$(PY) -m pytest tests/e2e/test_conversation_suite.py --rasa-bin $(RASA) --rasa-model $(MODEL) -s -m bench
endif

seed-conversations: $(APP_ENV)/.ready ## add N generated conversations of ten turns to the app database (N=10000), for the console's inbox
	$(PY) -m keepwell seed-conversations --count $(N)

crossval: setup ## bot/nlu in 5-fold cross-validation and the FallbackClassifier threshold config.yml should ship
	$(PY) -m benchmarks crossval --rasa-bin $(RASA)

clean: ## remove built artefacts (keeps the cached environments)
	rm -rf data models .pytest_cache
