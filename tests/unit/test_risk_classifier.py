"""The learned half of the risk detector: data loading, threshold choice, decisions."""

from dataclasses import replace
from pathlib import Path
from typing import List, Optional

import joblib
import numpy as np
import pytest
import yaml

from bot.nlu.risk_classifier import (
    Decision,
    RiskClassifier,
    RiskExamples,
    IMPERSONAL_VETO_CAP,
    OutOfFold,
    _choose_decision,
    _impersonal_floor,
    normalise,
    reads_as_english,
    risk_example_files,
    speaks_personally,
)

WRITER_COUNT = 3


def write_writer(path: Path, statements: List[dict], ordinary: List[str], **extra) -> Path:
    path.write_text(yaml.safe_dump({**extra, "risk_statements": statements,
                                    "ordinary_questions": ordinary}), encoding="utf-8")
    return path


def invented_word_writers(folder: Path) -> List[Path]:
    """Three writers who all call a crisis by a word no lexicon has ("zorblax")."""
    files = []
    for writer in range(WRITER_COUNT):
        statements = [{"text": f"{opening} the zorblax thing {ending}", "categories": ["self_harm"]}
                      for opening in ("tonight i will do", "i keep planning", "ready for")
                      for ending in ("soon", f"writer {writer}", "for real")]
        ordinary = [f"is kratom legal in state number {n} for writer {writer}" for n in range(8)]
        ordinary += ["what does kratom taste like", "where does kratom grow"]
        files.append(write_writer(folder / f"writer_{writer}.yml", statements, ordinary))
    return files


def test_normalise_folds_case_and_apostrophes():
    assert normalise("I CAN’T stop") == normalise("i cant stop") == "i cant stop"
    assert normalise("don't") == "dont"


def test_examples_keep_writers_and_the_lexicon_tuned_flag(tmp_path):
    first = write_writer(tmp_path / "a.yml", [{"text": "x", "categories": ["minor"]}], ["q"],
                         lexicon_tuned=True)
    second = write_writer(tmp_path / "b.yml", [{"text": "y", "categories": ["mixing"]}],
                          ["r", "s"])
    examples = RiskExamples.from_files([first, second])
    assert examples.texts == ["x", "q", "y", "r", "s"]
    assert examples.writers == [0, 0, 1, 1, 1]
    assert examples.is_ordinary == [False, True, False, True, True]
    assert examples.lexicon_tuned_writers == {0}
    assert examples.categories == ("minor", "mixing")


def test_a_statement_without_categories_is_rejected(tmp_path):
    bad = write_writer(tmp_path / "bad.yml", [{"text": "x", "categories": []}], ["q"])
    with pytest.raises(ValueError, match="without categories"):
        RiskExamples.from_files([bad])


def test_background_skips_known_texts_and_what_the_lexicon_flags(tmp_path):
    examples = RiskExamples.from_files(
        [write_writer(tmp_path / "a.yml", [{"text": "x", "categories": ["minor"]}], ["q"])])
    examples.add_background(["q", "new question", "new question", "i overdosed", ""],
                            lexicon=lambda text: {"emergency"} if "overdosed" in text else set())
    assert examples.background == ["new question"]


def test_example_files_are_found_in_folders_and_missing_paths_fail(tmp_path):
    (tmp_path / "sub").mkdir()
    write_writer(tmp_path / "sub" / "b.yml", [], [])
    write_writer(tmp_path / "a.yml", [], [])
    (tmp_path / "README.md").write_text("not data")
    assert [p.name for p in risk_example_files([tmp_path])] == ["a.yml", "b.yml"]
    with pytest.raises(FileNotFoundError):
        risk_example_files([tmp_path / "absent"])


def test_decision_flags_by_score_or_by_a_lexicon_match_above_the_floor():
    decision = Decision(threshold=0.8, lexicon_floor=0.1)
    assert decision.flags(0.9, lexicon_matched=False)
    assert not decision.flags(0.5, lexicon_matched=False)
    assert decision.flags(0.5, lexicon_matched=True)
    assert not decision.flags(0.05, lexicon_matched=True)


def test_chosen_threshold_keeps_false_flags_within_budget():
    scores = np.array([0.9, 0.7, 0.4, 0.6, 0.3, 0.2, 0.1, 0.05])
    positive = np.array([True, True, True, False, False, False, False, False])
    ordinary = ~positive
    no_lexicon = np.zeros(len(scores), dtype=bool)
    strict = _choose_decision(scores, positive, no_lexicon, ordinary, budget=0.0)
    assert strict.threshold > 0.6  # above every ordinary score: 0.7 and 0.9 caught
    loose = _choose_decision(scores, positive, no_lexicon, ordinary, budget=0.2)
    assert 0.3 < loose.threshold <= 0.4  # one of five ordinary may be flagged: all caught


def test_lexicon_false_match_is_overruled_only_when_nothing_real_is_lost():
    scores = np.array([0.9, 0.2, 0.02, 0.1, 0.1, 0.1])
    positive = np.array([True, True, False, False, False, False])
    lexicon = np.array([True, True, True, False, False, False])  # matched a harmless message
    ordinary = ~positive
    decision = _choose_decision(scores, positive, lexicon, ordinary, budget=0.0)
    assert 0.02 < decision.lexicon_floor <= 0.2
    assert decision.flags(0.2, lexicon_matched=True)
    assert not decision.flags(0.02, lexicon_matched=True)


def test_recall_first_never_overrules_a_lexicon_match():
    scores = np.array([0.9, 0.6, 0.01, 0.02])
    positive = np.array([True, True, False, False])
    lexicon = np.array([True, True, True, False])  # a harmless match the classifier doubts
    ordinary = ~positive
    crisis = _choose_decision(scores, positive, lexicon, ordinary, budget=0.0, recall_first=True)
    assert crisis.lexicon_floor == 0.0
    other = _choose_decision(scores, positive, lexicon, ordinary, budget=0.0)
    assert other.lexicon_floor > 0.01  # elsewhere the budget may overrule it


def test_veto_may_cost_at_most_its_share_of_real_matches():
    # 40 real messages matched by the lexicon, one of them scored lower than a harmless match.
    real_scores = np.concatenate([[0.02], np.linspace(0.5, 1.0, 39)])
    scores = np.concatenate([real_scores, [0.1, 0.05]])
    positive = np.array([True] * 40 + [False, False])
    lexicon = np.ones(len(scores), dtype=bool)
    decision = _choose_decision(scores, positive, lexicon, ~positive, budget=0.0)
    assert decision.lexicon_floor > 0.1  # both harmless matches overruled, one real one lost
    assert sum(decision.flags(s, lexicon_matched=True) for s in real_scores) == 39
    # Two real messages scored low are 10% of 20, more than the 5% a veto may cost.
    decision = _choose_decision(np.concatenate([[0.02, 0.03], np.linspace(0.5, 1, 18), [0.1]]),
                                np.array([True] * 20 + [False]), np.ones(21, dtype=bool),
                                np.array([False] * 20 + [True]), budget=0.0)
    assert decision.lexicon_floor <= 0.02


def test_a_lexicon_match_in_another_language_is_never_overruled():
    decision = Decision(threshold=0.8, lexicon_floor=0.1)
    assert decision.flags(0.01, lexicon_matched=True, english=False)
    assert not decision.flags(0.01, lexicon_matched=True, english=True)
    assert not decision.flags(0.5, lexicon_matched=False, english=False)  # adds nothing


def test_a_crisis_named_in_another_language_is_never_overruled_as_impersonal():
    crisis = Decision(threshold=0.8, lexicon_floor=0.0, impersonal_floor=0.2)
    assert crisis.flags(0.01, lexicon_matched=True, personal=False, english=False)
    assert not crisis.flags(0.01, lexicon_matched=True, personal=False, english=True)


def test_matches_that_cannot_be_overruled_neither_set_nor_spend_the_veto():
    # The two lowest real matches are not in English: they cannot be overruled, so they must
    # not hold the floor down; a harmless English match below the other real ones is overruled.
    scores = np.array([0.01, 0.015] + list(np.linspace(0.5, 1.0, 20)) + [0.3, 0.02])
    positive = np.array([True] * 22 + [False, False])
    lexicon = np.ones(len(scores), dtype=bool)
    overrulable = np.array([False, False] + [True] * 20 + [True, False])
    decision = _choose_decision(scores, positive, lexicon, ~positive, budget=0.0,
                                overrulable=overrulable)
    assert 0.3 < decision.lexicon_floor <= 0.5
    without_mask = _choose_decision(scores, positive, lexicon, ~positive, budget=0.0)
    assert without_mask.lexicon_floor <= 0.015  # two of 22 real is more than the 5% allowed


@pytest.mark.parametrize("text, english", [
    ("Estou grávida de 10 semanas e ainda tomo kratom todo dia", False),
    ("Je suis enceinte de cinq mois et je prends du kratom pour mes douleurs", False),
    ("Ich stille und nehme Kratom, ist das gefährlich für mein Baby?", False),
    ("mi esposo esconde las bolsas de kratom en el carro", False),
    ("iedereen is beter af zonder mij. serieus", False),
    ("aiuto non si sveglia", False),
    ("Ich hab einfach keine Kraft mehr", False),
    ("i want to die", True),
    ("yo", True),
    ("threw it in the bin, um, per day is too much", True),
    ("honestly I can't stop with the kratom, like I tried everything, nada", True),
    ("", True),
])
def test_reads_as_english(text, english):
    assert reads_as_english(text) == english


def test_classifier_learns_a_crisis_word_no_lexicon_has(tmp_path):
    examples = RiskExamples.from_files(invented_word_writers(tmp_path))
    classifier = RiskClassifier.train(examples)
    assert classifier.categories == ("self_harm",)
    assert "self_harm" in classifier.decide("might do the zorblax thing tonight", set())
    assert classifier.decide("is kratom legal in my state", set()) == {}


def invented_minor_writers(folder: Path) -> List[Path]:
    """Writers who call a crisis "zorblax" and a minor's use "blorptastic"."""
    files = []
    for writer in range(WRITER_COUNT):
        statements = [{"text": f"{opening} the zorblax thing {ending}", "categories": ["self_harm"]}
                      for opening in ("tonight i will do", "i keep planning")
                      for ending in ("soon", f"writer {writer}")]
        statements += [{"text": f"{opening} blorptastic {ending}", "categories": ["minor"]}
                       for opening in ("me and my mates went", "im 15 and")
                       for ending in ("again", f"writer {writer}")]
        ordinary = [f"is kratom legal in state number {n} for writer {writer}" for n in range(8)]
        files.append(write_writer(folder / f"writer_{writer}.yml", statements, ordinary))
    return files


def test_no_category_of_its_own_in_a_message_framed_as_not_present(tmp_path):
    classifier = RiskClassifier.train(RiskExamples.from_files(invented_minor_writers(tmp_path)))
    asked = []

    def framed(category: str) -> bool:
        asked.append(category)
        return True

    assert "minor" in classifier.decide("me and my mates went blorptastic again", set())
    assert "minor" not in classifier.decide("me and my mates went blorptastic again", set(), framed)
    # a lexicon match stands; a crisis the classifier alone finds does not
    assert "minor" in classifier.decide("me and my mates went blorptastic again", {"minor"}, framed)
    assert "self_harm" in classifier.decide("the zorblax thing tonight", set())
    assert "self_harm" not in classifier.decide("the zorblax thing tonight", set(), framed)
    assert "self_harm" in classifier.decide("the zorblax thing tonight", {"self_harm"}, framed)
    asked.clear()
    classifier.decide("is kratom legal in my state", set(), framed)
    assert not asked  # only asked when the classifier alone would add a category


def test_not_present_is_asked_per_category(tmp_path):
    classifier = RiskClassifier.train(RiskExamples.from_files(invented_minor_writers(tmp_path)))

    def minor_does_not_use(category: str) -> bool:  # "he hasn't tried it": minors only
        return category == "minor"

    minor_text, crisis_text = "me and my mates went blorptastic again", "the zorblax thing tonight"
    assert "minor" in classifier.decide(minor_text, set())
    assert "minor" not in classifier.decide(minor_text, set(), minor_does_not_use)
    assert "self_harm" in classifier.decide(crisis_text, set(), minor_does_not_use)


def test_lexicon_matches_stand_beside_a_crisis(tmp_path):
    classifier = RiskClassifier.train(RiskExamples.from_files(invented_minor_writers(tmp_path)))
    # a floor the minor model's score cannot reach: it overrules the lexicon's minor match...
    classifier.decisions["minor"] = Decision(threshold=0.99, lexicon_floor=0.5)
    assert classifier.decide("is kratom legal in my state", {"minor"}) == {}
    # ...except beside a crisis, where both resources belong in the reply
    both = classifier.decide("i keep planning the zorblax thing soon", {"minor"})
    assert set(both) == {"minor", "self_harm"}


def test_decide_keeps_a_lexicon_match_in_another_language(tmp_path):
    classifier = RiskClassifier.train(RiskExamples.from_files(invented_minor_writers(tmp_path)))
    classifier.decisions["minor"] = Decision(threshold=0.99, lexicon_floor=0.99)
    assert classifier.decide("is kratom legal in my state for us", {"minor"}) == {}
    assert set(classifier.decide("mon fils a quinze ans et il prend du kratom", {"minor"})) == {
        "minor"}


def test_lexicon_categories_without_a_model_are_kept(tmp_path):
    classifier = RiskClassifier.train(RiskExamples.from_files(invented_word_writers(tmp_path)))
    assert classifier.decide("is kratom legal in my state", {"pregnancy"}) == {"pregnancy": 1.0}


def test_thresholds_need_several_writers(tmp_path):
    files = invented_word_writers(tmp_path)[:2]
    with pytest.raises(ValueError, match="at least 3 writers"):
        RiskClassifier.train(RiskExamples.from_files(files))


def test_project_risk_data_is_well_formed():
    files = risk_example_files([Path(__file__).resolve().parents[2] / "data" / "risk"])
    examples = RiskExamples.from_files(files)
    allowed = {"emergency", "self_harm", "addiction", "mixing", "pregnancy", "minor",
               "concentrated_7oh"}
    assert set(examples.categories) == allowed
    assert len(files) - len(examples.lexicon_tuned_writers) >= 3
    assert len(set(examples.texts)) > 0.98 * len(examples.texts)


def test_fast_scores_equal_scikit_learn_scores(tmp_path):
    classifier = RiskClassifier.train(RiskExamples.from_files(invented_word_writers(tmp_path)))
    texts = ["ready for the zorblax thing", "is kratom legal", "", "???", "Zorblax!! soon"]
    for fast, reference in zip(classifier.scores(texts), classifier.sklearn_scores(texts)):
        assert fast.keys() == reference.keys()
        for category in fast:
            assert fast[category] == pytest.approx(reference[category], abs=1e-6)


def test_fast_scores_stay_equal_when_words_repeat_and_spacing_varies(tmp_path):
    # the fast scorer remembers each word's character n-grams: a second sighting, other
    # whitespace, apostrophes and case must give the same scores as scikit-learn
    classifier = RiskClassifier.train(RiskExamples.from_files(invented_word_writers(tmp_path)))
    texts = ["Zorblax zorblax ZORBLAX", "zorblax\tsoon\n\nready  for\u00a0it",
             "can't zorblax, cant zorblax", "ready for the zorblax thing",
             "ready for the zorblax thing", "zorblax" * 20 + " soon", "zorblax" * 20 + " soon"]
    for fast, reference in zip(classifier.scores(texts), classifier.sklearn_scores(texts)):
        for category in fast:
            assert fast[category] == pytest.approx(reference[category], abs=1e-6)


def test_a_stored_classifier_scores_like_the_trained_one(tmp_path):
    classifier = RiskClassifier.train(RiskExamples.from_files(invented_word_writers(tmp_path)))
    texts = ["ready for the zorblax thing", "is kratom legal", "Zorblax!! soon"]
    before = classifier.scores(texts)
    joblib.dump(classifier, tmp_path / "classifier.joblib")
    loaded = joblib.load(tmp_path / "classifier.joblib")
    assert loaded.scores(texts) == before
    assert loaded.decisions == classifier.decisions


def test_recall_first_budget_comes_on_top_of_the_lexicons_own_false_flags():
    # The lexicon alone already flags one ordinary message in four (over a 0 budget): the
    # classifier may still add the crisis it alone recognises, within its own budget.
    scores = np.array([0.9, 0.8, 0.1, 0.2, 0.1, 0.05])
    positive = np.array([True, True, False, False, False, False])
    lexicon = np.array([True, False, True, False, False, False])
    decision = _choose_decision(scores, positive, lexicon, ~positive, budget=0.0,
                                recall_first=True)
    assert decision.lexicon_floor == 0.0
    assert 0.2 < decision.threshold <= 0.8


@pytest.mark.parametrize("text", [
    "i think i overdosed, what are the side effects of kratom",
    "my friend is not breathing properly after kratom",
    "she took too much and won't wake up",
    "what do we do, he had a seizure",
    "someone at this party collapsed help",
    "is this an overdose, answer now",
    "help",
    "od",
    "not breathing",
    "Im so done with everything",
    "puked like ten times already and its still going",
    "which is more likely to stop your breathing, asking for tonight",
    "ya no quiero vivir, estoy cansado de todo",
    "il est tout gris et il ronfle bizarre depuis tout à l'heure",
    "minha mãe não acorda depois de tomar o chá",
    "mi novio no despierta y respira muy raro",
])
def test_messages_about_someone_present_speak_personally(text):
    assert speaks_personally(text)


@pytest.mark.parametrize("text", [
    "what are the warning signs that someone is suicidal?",
    "What should a bystander do if someone collapses at a party",
    "how can you tell if a person is overdosing or just very drunk",
    "¿cuáles son los síntomas de una sobredosis en general?",
])
def test_general_questions_do_not_speak_personally(text):
    assert not speaks_personally(text)


def test_an_impersonal_lexicon_match_needs_the_impersonal_floor():
    decision = Decision(threshold=0.9, lexicon_floor=0.0, impersonal_floor=0.2)
    assert decision.flags(0.05, lexicon_matched=True, personal=True)
    assert not decision.flags(0.05, lexicon_matched=True, personal=False)
    assert decision.flags(0.3, lexicon_matched=True, personal=False)
    assert decision.flags(0.95, lexicon_matched=False, personal=False)
    assert not decision.flags(0.3, lexicon_matched=False, personal=True)


def test_impersonal_floor_is_below_every_real_crisis_and_capped():
    assert _impersonal_floor(np.array([0.5, 0.08, 0.9])) == pytest.approx(0.08)
    assert _impersonal_floor(np.array([0.5, 0.08, 0.9])) < 0.08
    assert _impersonal_floor(np.array([0.7, 0.9])) == IMPERSONAL_VETO_CAP
    assert _impersonal_floor(np.array([])) == 0.0


def zorblax_crisis_writers(folder: Path) -> List[Path]:
    """Writers whose crises ("the zorblax thing") a lexicon names, personally or not, and whose
    general questions about zorblax are ordinary."""
    files = []
    for writer in range(WRITER_COUNT):
        statements = [{"text": f"{who} {act} the zorblax thing {when} {writer}",
                       "categories": ["self_harm"]}
                      for who in ("i", "my brother", "she", "someone here")
                      for act in ("will do", "keeps planning")
                      for when in ("tonight", "soon")]
        ordinary = [f"what are the warning signs of zorblax, for a lesson plan {n} {writer}"
                    for n in range(6)]
        ordinary += [f"is kratom legal in state number {n} for writer {writer}" for n in range(8)]
        files.append(write_writer(folder / f"writer_{writer}.yml", statements, ordinary))
    return files


def zorblax_lexicon(text: str) -> set:
    return {"self_harm"} if "zorblax" in text else set()


def test_a_crisis_the_lexicon_names_is_overruled_only_in_a_general_question(tmp_path):
    classifier = RiskClassifier.train(RiskExamples.from_files(zorblax_crisis_writers(tmp_path)),
                                      lexicon=zorblax_lexicon)
    assert classifier.decisions["self_harm"].impersonal_floor > 0.0
    general = "what are the warning signs of zorblax, for a lesson plan at school"
    assert classifier.decide(general, zorblax_lexicon(general)) == {}
    personal = "what are the warning signs of zorblax, i think i have them"
    assert "self_harm" in classifier.decide(personal, zorblax_lexicon(personal))


def test_a_wording_that_is_never_general_is_not_overruled_as_impersonal(tmp_path):
    classifier = RiskClassifier.train(RiskExamples.from_files(zorblax_crisis_writers(tmp_path)),
                                      lexicon=zorblax_lexicon)
    general = "what are the warning signs of zorblax, for a lesson plan at school"
    assert classifier.decide(general, zorblax_lexicon(general)) == {}
    assert set(classifier.decide(general, zorblax_lexicon(general),
                                 never_general={"self_harm"})) == {"self_harm"}


def test_never_general_matches_neither_set_the_impersonal_floor():
    examples = RiskExamples()
    texts = ["what is the zorblax way", "what is the quiet zorblax way", "is kratom legal"] * 3
    for writer in range(3):
        for text in texts:
            examples._add(f"{text} {writer}", frozenset() if "legal" in text
                          else frozenset({"self_harm"}), writer, "legal" in text)
    found = [{"self_harm"} if "zorblax" in t else set() for t in examples.texts]
    marked = [{"self_harm"} if "quiet" in t else set() for t in examples.texts]
    scores = np.array([0.01 if "quiet" in t else 0.5 for t in examples.texts])
    targets = {"self_harm": np.array([bool(labels) for labels in examples.labels])}
    count = len(examples.texts)
    held_out = OutOfFold(examples, targets, {"self_harm": scores}, found,
                         personal=np.zeros(count, bool), english=np.ones(count, bool),
                         never_general=marked)
    rows = np.ones(count, bool)
    # the marked real crises score 0.01 but cannot be vetoed, so the floor is set by the others
    assert held_out.decisions(rows)["self_harm"].impersonal_floor == pytest.approx(
        min(IMPERSONAL_VETO_CAP, 0.5), abs=1e-6)
    unmarked = replace(held_out, never_general=[set() for _ in examples.texts])
    assert unmarked.decisions(rows)["self_harm"].impersonal_floor < 0.01


def test_thresholds_for_a_held_out_writer_are_chosen_without_it_and_tuned_writers(tmp_path):
    files = invented_word_writers(tmp_path)
    files.append(write_writer(tmp_path / "writer_tuned.yml",
                              [{"text": "the zorblax thing tonight", "categories": ["self_harm"]}],
                              ["what is kratom made of"], lexicon_tuned=True))
    held_out = OutOfFold.score(RiskExamples.from_files(files))
    writers = np.array(held_out.examples.writers)
    assert set(writers[held_out.threshold_rows()]) == {0, 1, 2}
    assert set(writers[held_out.threshold_rows(excluding_writer=1)]) == {0, 2}
    # every writer thresholds are chosen on is scored; the tuned writer is not even scored
    scored = ~np.isnan(held_out.scores["self_harm"])
    assert scored[held_out.threshold_rows()].all() and not scored[writers == 3].any()
    decision = held_out.decisions(held_out.threshold_rows(excluding_writer=1))["self_harm"]
    zorblax = [i for i in np.flatnonzero(writers == 1)
               if held_out.targets["self_harm"][i]]
    assert all(decision.flags(held_out.scores["self_harm"][i], False) for i in zorblax)


class _NoLexicon:
    """A stand-in for the RiskMatcher: the classifier alone decides."""

    def categories_in(self, text: str) -> set:
        return set()

    def never_general_in(self, text: str) -> set:
        return set()

    def make_doc(self, text: str) -> str:
        return text

    def frames_as_not_present(self, doc: str, category: Optional[str] = None) -> bool:
        return False


def _crossval_writers(folder: Path) -> List[Path]:
    files = invented_word_writers(folder)
    files.append(write_writer(folder / "writer_extra.yml",
                              [{"text": "doing the zorblax thing tonight for real",
                                "categories": ["self_harm"]}],
                              ["what is kratom made of", "is kratom a coffee relative"]))
    files.append(write_writer(folder / "writer_tuned.yml",
                              [{"text": "the zorblax thing tonight", "categories": ["self_harm"]}],
                              ["what does kratom smell like"], lexicon_tuned=True))
    return files


@pytest.mark.parametrize("mode", ["nested", "single_level"])
def test_crossval_holds_out_every_scored_writer_once_with_its_own_messages(tmp_path, mode):
    from bot.evaluation import risk_crossval

    files = _crossval_writers(tmp_path)
    folds = getattr(risk_crossval, f"_{mode}")(files, ["how is kratom grown"], _NoLexicon())
    held = list(folds)
    assert [h.name for h in held] == ["writer_0", "writer_1", "writer_2", "writer_extra"]
    for writer in held:
        data = yaml.safe_load((tmp_path / f"{writer.name}.yml").read_text())
        assert writer.statements == data["risk_statements"]
        assert writer.ordinary == data["ordinary_questions"]
        texts = [s["text"] for s in writer.statements] + writer.ordinary
        assert set(writer.lexicon) == set(writer.combined) == set(texts)
    # Learned from the other writers only: each one's invented crisis word is still caught.
    crises = [found for h in held[:3] for t, found in h.combined.items() if "zorblax" in t]
    assert crises and all("self_harm" in found for found in crises)


def test_crossval_refuses_the_held_out_sets():
    from bot.evaluation import risk_crossval

    assert risk_crossval.main(["--data", "tests/heldout"]) == 2


def test_false_flags_are_counted_per_category_without_the_messages():
    from bot.evaluation.risk_scoring import score

    found = {
        "is kratom addictive?": ["addiction"],
        "how do paramedics treat an overdose?": ["emergency", "self_harm"],
        "can you overdose on kratom?": ["emergency"],
        "is kratom legal?": [],
    }
    result = score([], list(found), found.__getitem__)
    assert result.false_flags_by_category() == [("emergency", 2), ("addiction", 1), ("self_harm", 1)]
    assert score([], ["is kratom legal?"], found.__getitem__).false_flags_by_category() == []
