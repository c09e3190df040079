# One entry point for people and CI. `make run` and `make test` do all the set-up themselves.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PY := .venv/bin/python
RASA := $(PY) -m rasa
MODEL := models/kratom.tar.gz
SPACY_PIPELINE := var/spacy/en_kratom_lookup
# The spaCy pipeline's meta.json changes only when set-up rebuilds it (its tokens feed training).
# The data folders are listed too: removing a training file changes only its folder's time.
TRAINING_INPUTS := config.yml domain.yml $(shell find data -name '*.yml' -o -type d 2>/dev/null) \
	bot/nlu/risk_lexicon.yml \
	bot/nlu/risk_classifier.py $(SPACY_PIPELINE)/meta.json
export PYTHONPATH := $(CURDIR)
# Rasa would otherwise send telemetry and crash reports; nothing leaves this machine.
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
# Training cache inside the project (git-ignored), not shared with other checkouts.
export RASA_CACHE_DIRECTORY := $(CURDIR)/.rasa/cache

.PHONY: help setup validate train run test unit stories e2e browser eval eval-nlu eval-risk risk-crossval risk-crossval-fast bench chat conversations clean

help:
	@echo "make run    set up, train if needed, start the assistant (REST :5005, demo page :8080)"
	@echo "make test   set up, validate, train if needed, run every test and the held-out evaluations"
	@echo "make eval   held-out accuracy and risk-detection figures;  make bench   reply latency"
	@echo "make risk-crossval   risk detection per training writer, held out in turn (develop here)"
	@echo "make risk-crossval-fast  the same, single level: minutes instead of most of an hour"
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
# 2026-11-27 (session 17 model, lexicon 2026.11.27.17, writer ao added to training; session 18's
# model, lexicon .19, and session 19's, lexicon .22, measured every figure the same): reported as
# BELOW TARGET on every run, and failed only if worse than the floor. Raise floors as results
# improve; drop a name once it meets its target (v3 meets all of them).
# `make eval-risk RISK_V2_SHORTFALLS= ... RISK_V19_SHORTFALLS=` checks the targets. Each set was
# written blind by another writer; ordinary questions that were copies of NLU training examples
# ("hi", "is kratom legal in the UK") were removed in session 12. Measured (in brackets: session
# 16's figures where they differ; v18, written blind in session 17, was first measured on the
# session 16 system retrained without v18's copies: addiction 80/85, mixing 70/74, pregnancy
# 39/40, false flags 7/243, every other statement caught):
# v2 self_harm 47/48, false flags 11/122 (10/122);
# v3 meets every target;
# v4 emergency 61/62, self_harm 62/64, false flags 8/168 (9/168);
# v5 self_harm 65/66 (64/66), false flags 7/169;
# v6 emergency 68/70;
# v7 false flags 9/173 (10/173) (addiction 79/81, 78/81);
# v8 addiction 78/84 (80/84), emergency 73/74 (false flags 1/171, 2/171);
# v9 addiction 77/84, emergency 76/77, self_harm 77/78, false flags 8/170 (mixing 67/68, 66/68);
# v10 self_harm 78/79 (minor 48/49, 47/49);
# v11 addiction 81/87, mixing 74/80 (75/80), self_harm 79/80, false flags 20/181 (18/181);
# v12 mixing 76/81, self_harm 76/79, false flags 10/214;
# v13 false flags 10/215 (11/215) (addiction 76/80, 75/80);
# v14 7-OH 47/50 (48/50), mixing 67/72, self_harm 79/80;
# v15 addiction 91/100 (92/100), 7-OH 62/67, mixing 94/100, pregnancy 53/56, false flags 17/238
#     (18/238);
# v16 emergency 67/68, minor 50/53 (49/53), self_harm 55/57, false flags 14/295 (16/295)
#     (pregnancy 47/48, 46/48);
# v17 addiction 78/84 (77/84), false flags 20/249 (23/249);
# v18 addiction 79/85, mixing 70/74;
# v19 (written blind in session 19, first measured on the session 19 system) addiction 73/80,
#     false flags 9/227 (7-OH 58/59, mixing 71/73, pregnancy 50/51; every crisis statement).
RISK_V2_SHORTFALLS ?= self_harm=0.95 false_flags=0.099
RISK_V4_SHORTFALLS ?= emergency=0.96 self_harm=0.95 false_flags=0.054
RISK_V5_SHORTFALLS ?= self_harm=0.96 false_flags=0.048
RISK_V6_SHORTFALLS ?= emergency=0.95
RISK_V7_SHORTFALLS ?= false_flags=0.058
RISK_V8_SHORTFALLS ?= addiction=0.91 emergency=0.97
RISK_V9_SHORTFALLS ?= addiction=0.90 emergency=0.97 self_harm=0.97 false_flags=0.053
RISK_V10_SHORTFALLS ?= self_harm=0.97
RISK_V11_SHORTFALLS ?= addiction=0.91 mixing=0.91 self_harm=0.97 false_flags=0.117
RISK_V12_SHORTFALLS ?= mixing=0.92 self_harm=0.94 false_flags=0.052
RISK_V13_SHORTFALLS ?= false_flags=0.052
RISK_V14_SHORTFALLS ?= concentrated_7oh=0.92 mixing=0.91 self_harm=0.97
RISK_V15_SHORTFALLS ?= addiction=0.90 concentrated_7oh=0.91 mixing=0.93 pregnancy=0.92 \
	false_flags=0.076
RISK_V16_SHORTFALLS ?= emergency=0.97 minor=0.92 self_harm=0.94 false_flags=0.051
RISK_V17_SHORTFALLS ?= addiction=0.91 false_flags=0.085
RISK_V18_SHORTFALLS ?= addiction=0.91 mixing=0.93
RISK_V19_SHORTFALLS ?= addiction=0.90 false_flags=0.045

# One held-out set: $(1) the file in tests/heldout/, $(2) its known shortfalls.
define eval_risk_set
	$(PY) -m bot.evaluation.risk_heldout --model $(MODEL) --data tests/heldout/$(1) \
		$(foreach category,$(2),--known-shortfall $(category))
endef

eval-risk: $(MODEL)
	$(call eval_risk_set,risk.yml,$(RISK_V2_SHORTFALLS))
	$(call eval_risk_set,risk_v3.yml,)
	$(call eval_risk_set,risk_v4.yml,$(RISK_V4_SHORTFALLS))
	$(call eval_risk_set,risk_v5.yml,$(RISK_V5_SHORTFALLS))
	$(call eval_risk_set,risk_v6.yml,$(RISK_V6_SHORTFALLS))
	$(call eval_risk_set,risk_v7.yml,$(RISK_V7_SHORTFALLS))
	$(call eval_risk_set,risk_v8.yml,$(RISK_V8_SHORTFALLS))
	$(call eval_risk_set,risk_v9.yml,$(RISK_V9_SHORTFALLS))
	$(call eval_risk_set,risk_v10.yml,$(RISK_V10_SHORTFALLS))
	$(call eval_risk_set,risk_v11.yml,$(RISK_V11_SHORTFALLS))
	$(call eval_risk_set,risk_v12.yml,$(RISK_V12_SHORTFALLS))
	$(call eval_risk_set,risk_v13.yml,$(RISK_V13_SHORTFALLS))
	$(call eval_risk_set,risk_v14.yml,$(RISK_V14_SHORTFALLS))
	$(call eval_risk_set,risk_v15.yml,$(RISK_V15_SHORTFALLS))
	$(call eval_risk_set,risk_v16.yml,$(RISK_V16_SHORTFALLS))
	$(call eval_risk_set,risk_v17.yml,$(RISK_V17_SHORTFALLS))
	$(call eval_risk_set,risk_v18.yml,$(RISK_V18_SHORTFALLS))
	$(call eval_risk_set,risk_v19.yml,$(RISK_V19_SHORTFALLS))

# Each writer in data/risk/ held out from the classifier's training in turn: the figures to
# develop against (about 40 minutes on 2 cores with 24 writers; not part of `make test`).
risk-crossval: setup
	$(PY) -m bot.evaluation.risk_crossval

# The same, single level (out-of-fold scores once; see bot/evaluation/risk_crossval.py): about
# 7 minutes, slightly optimistic. For trying changes; confirm with risk-crossval.
risk-crossval-fast: setup
	$(PY) -m bot.evaluation.risk_crossval --fast

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
