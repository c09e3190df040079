"""The held-out sets measure only if nothing in them was trained on.

The intent classifier learns from `data/nlu/`. The risk classifier learns from `data/risk/`
and from `data/nlu/` too (its questions are ordinary background); `data/risk_candidates/` may
be moved into training at any time. A held-out message that is a copy of what its classifier
learns from, ignoring case and apostrophes, is flagged here. So is one that copies an example
of the risk lexicon: the lexicon is checked against its examples, so they are tuned on too.
"""

from pathlib import Path
from typing import List

import pytest
import yaml
from rasa.shared.nlu.training_data.loading import load_data

from bot.nlu.risk_classifier import RiskExamples, normalise, risk_example_files

ROOT = Path(__file__).resolve().parents[2]
HELD_OUT = ROOT / "tests" / "heldout"


def nlu_texts(path: Path) -> List[str]:
    return [message.get("text") for message in load_data(str(path)).intent_examples]


def risk_texts(path: Path) -> List[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [s["text"] for s in data["risk_statements"]] + data["ordinary_questions"]


@pytest.fixture(scope="module")
def intent_training():
    return {normalise(text) for text in nlu_texts(ROOT / "data" / "nlu")}


@pytest.fixture(scope="module")
def risk_training(intent_training):
    folders = [ROOT / "data" / "risk", ROOT / "data" / "risk_candidates"]
    texts = RiskExamples.from_files(risk_example_files(folders)).texts
    return intent_training | {normalise(text) for text in texts}


@pytest.fixture(scope="module")
def lexicon_examples():
    lexicon = yaml.safe_load((ROOT / "bot" / "nlu" / "risk_lexicon.yml").read_text("utf-8"))
    return {
        normalise(text)
        for category in lexicon["categories"].values()
        for kind in ("flag", "no_flag")
        for text in (category.get("examples") or {}).get(kind) or []
    }


def held_out_sets():
    return [HELD_OUT / "nlu.yml"] + sorted(HELD_OUT.glob("risk*.yml"))


@pytest.mark.parametrize("held_out", held_out_sets(), ids=lambda path: path.name)
def test_no_held_out_message_is_trained_on(held_out, intent_training, risk_training):
    if held_out.name == "nlu.yml":
        texts, trained_on = nlu_texts(held_out), intent_training
    else:
        texts, trained_on = risk_texts(held_out), risk_training
    assert len(texts) >= 100
    copies = sorted({text for text in texts if normalise(text) in trained_on})
    assert not copies, f"{held_out.name}: {len(copies)} trained-on messages, e.g. {copies[:5]}"


@pytest.mark.parametrize("held_out", sorted(HELD_OUT.glob("risk*.yml")), ids=lambda p: p.name)
def test_no_held_out_message_is_a_lexicon_example(held_out, lexicon_examples):
    assert len(lexicon_examples) > 500
    # Counted, not printed (pytest would show a list): the lexicon is developed without
    # reading held-out messages.
    copies = sum(normalise(text) in lexicon_examples for text in risk_texts(held_out))
    assert copies == 0, f"{held_out.name}: lexicon examples copy some of its messages"


def test_the_check_sees_every_training_folder(intent_training, risk_training):
    assert normalise("is kratom legal in the UK") in intent_training
    assert normalise("Hi") in risk_training
    assert len(risk_training) > len(intent_training) + 4000
