# One entry point for people and CI. `make run` and `make test` do all the set-up themselves.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PY := .venv/bin/python
RASA := $(PY) -m rasa
MODEL := models/kratom.tar.gz
SPACY_PIPELINE := var/spacy/en_kratom_lookup
# The spaCy pipeline's meta.json changes only when set-up rebuilds it (its tokens feed training).
TRAINING_INPUTS := config.yml domain.yml $(shell find data -name '*.yml' 2>/dev/null) bot/nlu/risk_lexicon.yml \
	bot/nlu/risk_classifier.py $(SPACY_PIPELINE)/meta.json
export PYTHONPATH := $(CURDIR)
# Rasa would otherwise send telemetry and crash reports; nothing leaves this machine.
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
# Training cache inside the project (git-ignored), not shared with other checkouts.
export RASA_CACHE_DIRECTORY := $(CURDIR)/.rasa/cache

.PHONY: help setup validate train run test unit stories e2e browser eval eval-nlu eval-risk risk-crossval bench chat conversations clean

help:
	@echo "make run    set up, train if needed, start the assistant (REST :5005, demo page :8080)"
	@echo "make test   set up, validate, train if needed, run every test and the held-out evaluations"
	@echo "make eval   held-out accuracy and risk-detection figures;  make bench   reply latency"
	@echo "make risk-crossval   risk detection per training writer, held out in turn (develop here)"
	@echo "make chat   talk to the running assistant;  make conversations   list stored conversations"

setup:
	@bash scripts/setup.sh

validate: setup
	$(RASA) data validate --fail-on-warnings

# Retrains only when training data, domain or config changed since the last model.
$(SPACY_PIPELINE)/meta.json: | setup

$(MODEL): $(TRAINING_INPUTS) | setup
	$(RASA) train --fixed-model-name kratom --out models
	@touch $@

train: $(MODEL)

run: setup $(MODEL)
	$(PY) -m bot.serve

unit: setup
	$(PY) -m pytest tests/unit -q

stories: $(MODEL)
	$(RASA) test core --model $(MODEL) --stories tests/stories --e2e --fail-on-prediction-errors --out results/stories

eval-nlu: $(MODEL)
	$(PY) -m bot.evaluation.nlu_heldout --model $(MODEL) --data tests/heldout/nlu.yml --min-accuracy 0.90

# Held-out results still short of the issue's targets (open issue "Risk phrases lead to help"),
# each with a floor one message below what lexicon and classifier together measured on
# 2026-11-26: reported as BELOW TARGET on every run, and failed only if worse than the floor.
# Raise floors as results improve; drop a name once it meets its target. `make eval-risk
# RISK_V2_SHORTFALLS= RISK_V3_SHORTFALLS= RISK_V4_SHORTFALLS= RISK_V5_SHORTFALLS=` checks the
# targets. Each set was written blind by another writer. Measured:
# v2 self_harm 47/48, addiction 56/61, false flags 13/133 (emergency 44/44);
# v3 self_harm 65/66, addiction 66/72, minor 28/31, pregnancy 24/27, false flags 7/160
#    (emergency 62/62);
# v4 emergency 61/62, self_harm 62/64, pregnancy 28/30, false flags 10/170;
# v5 self_harm 63/66, addiction 70/77, pregnancy 28/32, false flags 7/170 (emergency 62/62).
RISK_V2_SHORTFALLS ?= self_harm=0.95 addiction=0.90 false_flags=0.106
RISK_V3_SHORTFALLS ?= self_harm=0.96 addiction=0.90 minor=0.87 pregnancy=0.85 false_flags=0.05
RISK_V4_SHORTFALLS ?= emergency=0.96 self_harm=0.95 pregnancy=0.90 false_flags=0.065
RISK_V5_SHORTFALLS ?= self_harm=0.93 addiction=0.89 pregnancy=0.84 false_flags=0.048

eval-risk: $(MODEL)
	$(PY) -m bot.evaluation.risk_heldout --model $(MODEL) --data tests/heldout/risk.yml \
		$(foreach category,$(RISK_V2_SHORTFALLS),--known-shortfall $(category))
	$(PY) -m bot.evaluation.risk_heldout --model $(MODEL) --data tests/heldout/risk_v3.yml \
		$(foreach category,$(RISK_V3_SHORTFALLS),--known-shortfall $(category))
	$(PY) -m bot.evaluation.risk_heldout --model $(MODEL) --data tests/heldout/risk_v4.yml \
		$(foreach category,$(RISK_V4_SHORTFALLS),--known-shortfall $(category))
	$(PY) -m bot.evaluation.risk_heldout --model $(MODEL) --data tests/heldout/risk_v5.yml \
		$(foreach category,$(RISK_V5_SHORTFALLS),--known-shortfall $(category))

# Each writer in data/risk/ held out from the classifier's training in turn: the figures to
# develop against (about 15 minutes on 2 cores; not part of `make test`).
risk-crossval: setup
	$(PY) -m bot.evaluation.risk_crossval

eval: eval-nlu eval-risk

e2e: $(MODEL)
	$(PY) -m pytest tests/e2e -q

# The widget against a fake socket.io server (canned edge cases: silence, restarts, link probes),
# then the same journeys against the real assistant started as `make run` starts it.
browser: $(MODEL)
	$(PY) -m pytest tests/browser -q
	WIDGET_TEST_ASSISTANT=real $(PY) -m pytest tests/browser/test_widget.py -q -m "not fake_assistant_only"

bench: $(MODEL)
	$(PY) -m bot.evaluation.latency --model $(MODEL)

test: validate $(MODEL)
	$(MAKE) --no-print-directory unit stories eval e2e browser

# Support staff: talk to the running assistant (`make run` in another terminal), read conversations.
chat: setup
	$(PY) -m bot.staff chat --url http://127.0.0.1:$${RASA_PORT:-5005}/webhooks/rest/webhook

conversations: setup
	$(PY) -m bot.staff conversations --db $${TRACKER_DB:-var/conversations.db}

clean:
	rm -rf models results var .pytest_cache
