"""The pure risk matcher (bot/nlu/risk_matcher.py) on the real lexicon, without Rasa."""

import ast
import copy
from pathlib import Path
from typing import List, Set

import pytest
import spacy
import yaml

from bot.nlu import bench_risk
from bot.nlu.risk_classifier import RiskExamples, risk_example_files
from bot.nlu.risk_matcher import (
    DEFAULT_LEXICON_PATH,
    LexiconError,
    RiskFinding,
    RiskMatcher,
    check_examples,
    load_lexicon,
    main,
    spell_line,
)

CATEGORIES = {
    "emergency",
    "self_harm",
    "addiction",
    "mixing",
    "pregnancy",
    "minor",
    "concentrated_7oh",
}


@pytest.fixture(scope="module")
def risk_matcher() -> RiskMatcher:
    """The shipped lexicon, compiled once for this module."""
    return RiskMatcher.from_path()


def categories(matcher: RiskMatcher, text: str) -> Set[str]:
    return {finding.category for finding in matcher.find_text(text)}


def _lexicon_examples(kind: str) -> List[tuple]:
    data = yaml.safe_load(DEFAULT_LEXICON_PATH.read_text(encoding="utf-8"))
    return [
        (name, text)
        for name, spec in data["categories"].items()
        for text in (spec.get("examples") or {}).get(kind, [])
    ]


# --------------------------------------------------------------------------- the lexicon file


def test_lexicon_has_version_and_the_agreed_categories(risk_matcher):
    assert risk_matcher.version
    assert set(risk_matcher.categories) == CATEGORIES


def test_lexicon_categories_match_the_reply_priority_list():
    # bot/content.py orders crisis resources by these names; a renamed category would
    # silently drop its resources from the reply.
    from bot.content import RISK_PRIORITY

    assert set(RISK_PRIORITY) == CATEGORIES


def test_every_category_documents_itself_with_examples():
    data = load_lexicon()
    for name, spec in data["categories"].items():
        assert spec["description"].strip(), name
        assert spec["examples"]["flag"], name
        assert spec["examples"]["no_flag"], name


def test_compiled_patterns_pass_spacy_schema_validation():
    RiskMatcher.from_path(validate=True)  # raises LexiconError on a malformed pattern


@pytest.mark.parametrize("category,text", _lexicon_examples("flag"))
def test_lexicon_flag_examples_flag_their_category(risk_matcher, category, text):
    assert category in categories(risk_matcher, text)


@pytest.mark.parametrize("category,text", _lexicon_examples("no_flag"))
def test_lexicon_no_flag_examples_do_not_flag_their_category(risk_matcher, category, text):
    assert category not in categories(risk_matcher, text)


def test_check_examples_reports_nothing_for_the_shipped_lexicon(risk_matcher):
    assert check_examples(risk_matcher) == []


# --------------------------------------------------------------------------- positives

POSITIVE = {
    "emergency": [
        "my friend took too much kratom and won't wake up",
        "I think I overdosed",
        "i think i od'd on kratom",
        "I OD’d last night and feel awful",
        "my brother is overdosing right now",
        "he ODed in the bathroom",
        "i odd on kratom and xanax",
        "she's not breathing",
        "he isnt breathing properly",
        "I can't breathe",
        "i cant breath",
        "I can not breathe after that dose",
        "having trouble breathing",
        "her lips are turning blue",
        "blue lips",
        "he's unresponsive",
        "my roommate won't wake up",
        "I can't wake him up",
        "he is having a seizure",
        "she's seizing on the floor",
        "he started fitting",
        "chest pain after my dose",
        "my chest hurts really bad",
        "I passed out",
        "my gf passed out in the car",
        "I took way too much kratom",
        "took too many capsules",
        "my heart is racing so badly",
        "my heart won't slow down, it's pounding",
        "i think i'm dying",
        "should I call 911",
        "is it normal to have chest pain after kratom?",
        "MY SON IS NOT BREATHING",
        "we need an ambulance",
        "my chest feels tight",
    ],
    "self_harm": [
        "I want to die",
        "i wanna die",
        "I'm suicidal",
        "feeling suicidle tonight",
        "i've been having suicidal thoughts",
        "I want to kill myself",
        "im gonna kill my self",
        "I just want to end it all",
        "i don't want to be here anymore",
        "I dont want to live like this",
        "thinking about ending my life",
        "I've been hurting myself",
        "I want to overdose on purpose",
        "planning to od",
        "I have no reason to live",
        "there's nothing to live for",
        "life isn't worth living",
        "I can't go on like this",
        "everyone would be better off without me",
        "I wish I was dead",
        "I hate my life and want it to end",
        "i dont see the point anymore",
        # recall first: negated mentions still show the hotline
        "I'm not suicidal",
    ],
    "addiction": [
        "I can't stop taking it",
        "i cant stop using kratom",
        "I can not stop",
        "I cannot quit kratom",
        "I'm addicted",
        "im addicted to kratom",
        "I am so adicted",
        "i think i'm addicted to kratum",
        "am I addicted?",
        "my husband is addicted to kratom",
        "I've become dependent on it",
        "I got hooked on kratom",
        "I'm physically dependent on kratom",
        "I relapsed yesterday",
        "the cravings are unbearable",
        "I'm in withdrawal",
        "im going through withdrawals",
        "the withdrawal is unbearable",
        "my withdrawals are brutal",
        "I need more to feel normal",
        "I need it just to function",
        "I can't function without it",
        "I can't get through the day without kratom",
        "I've tried to quit three times but I keep going back",
        "my kratom addiction is out of control",
        "I keep relapsing",
        "I'm not sure if I'm addicted",
        "I'm not addicted, I just can't stop",
        "I have a kratom problem",
        "i feel terrible without it",
        "I wake up in withdrawal every morning",
        "been using kratom every day for years and can't quit",
    ],
    "mixing": [
        "I took kratom with alcohol",
        "I took kratom with 4 beers last night",
        "i drank a few beers and took kratom",
        "I mixed kratom and xanax",
        "my friend took kratom and fentanyl",
        "he's been taking kratom with his methadone",
        "I'm taking kratom and gabapentin",
        "I take kratom with my lyrica",
        "I use kratum and drink vodka every night",
        "I'm on suboxone and take kratom",
        "I am prescribed klonopin and I use kratom",
        "took ketum with some valium",
        "had kratom then a couple of drinks",
        "I popped a xanax after my kratom",
        "i've been drinking and took kratom",
        "I drank wine while on kratom",
        "my boyfriend mixed kratom with lean",
        "took 5g kratom + phenibut",
        "I'm taking kratom with sleeping pills",
        "she took oxy and kratom together",
        "been drinking heavily on kratom",
        "does it matter that I took kratom after a few glasses of wine?",
    ],
    "pregnancy": [
        "I'm pregnant and take kratom",
        "i am pregnant",
        "im 12 weeks pregnant and using kratom",
        "I'm breastfeeding and still take kratom",
        "my wife is pregnant and uses kratom daily",
        "I'm currently nursing",
        "can I take kratom while breastfeeding?",
        "I used kratom during my pregnancy",
        "pregnant and using kratom, is that bad",
    ],
    "minor": [
        "I'm 15",
        "im 16 and use kratom",
        "I am 14 years old",
        "i'm 17 yo",
        "I'm a teenager and take kratom",
        "I'm in high school",
        "im in 9th grade",
        "my 15 year old son uses kratom",
        "my teenage daughter takes kratom",
        "my son is 16 and takes kratom",
        "I'm underage",
        "im only 16",
        "i'm a 15 year old",
        "15 y/o here, I use kratom",
    ],
    "concentrated_7oh": [
        "I take 7-OH tablets",
        "I've been taking 7oh gummies daily",
        "im using 7 oh shots",
        "my son vapes 7-OH",
        "I switched to 7oh",
        "I'm on 7-hydroxy",
        "took two 7oh tabs",
        "my 7oh tablets are almost gone",
        "I've been buying 7oh at the gas station",
    ],
}


@pytest.mark.parametrize(
    "category,text", [(c, t) for c, texts in POSITIVE.items() for t in texts]
)
def test_personal_risk_statements_flag(risk_matcher, category, text):
    assert category in categories(risk_matcher, text)


# --------------------------------------------------------------------------- negatives

NEGATIVE = {
    "emergency": [
        "can you overdose on kratom?",
        "can kratom cause seizures?",
        "what happens if you take too much kratom?",
        "has anyone ever overdosed on kratom?",
        "people have overdosed on kratom mixed with fentanyl",
        "what are the signs of an overdose",
        "does kratom raise your heart rate?",
        "that's odd",
        "he's odd",
        "odd question but is kratom a plant",
        "I'm fitting kratom into my routine",
        "how much is too much kratom?",
        "what should I do in an emergency",
    ],
    "self_harm": [
        "kratom withdrawal makes me tired",
        "I want to cut down on kratom",
        "my back pain is killing me",
        "I want to quit",
        "is kratom dangerous",
    ],
    "addiction": [
        "is kratom addictive?",
        "can you get addicted to kratom?",
        "can I get addicted to kratom?",
        "what are withdrawal symptoms",
        "how long does kratom withdrawal last?",
        "is kratom withdrawal bad?",
        "does kratom cause cravings?",
        "I'm not addicted",
        "im not addicted to it",
        "I am not dependent on kratom",
        "I've never been addicted",
        "I don't have cravings",
        "I never had withdrawals",
        "will I get withdrawals if I stop?",
        "what if I get hooked",
        "people get addicted to kratom",
        "I can stop whenever I want",
        "why can't people stop taking kratom?",
        "I used to be addicted to opioids",
        "what is kratom addiction",
    ],
    "mixing": [
        "is it safe to mix kratom and alcohol?",
        "can you mix kratom with xanax?",
        "can I take kratom with gabapentin?",
        "what happens if I mix kratom and alcohol",
        "should I drink while on kratom?",
        "is taking kratom with alcohol dangerous?",
        "I never mix it with alcohol",
        "I don't take kratom with alcohol",
        "I have never mixed kratom and beer",
        "I used kratom to get off oxy",
        "I took kratom instead of xanax",
        "I took kratom for my alcohol withdrawal",
        "I quit drinking and started kratom",
        "I take gabapentin, can I take kratom too?",
        "I had a question about kratom and alcohol",
        "kratom and alcohol is a dangerous mix",
        "I took kratom this morning",
        "I had a few beers last night",
        "does kratom interact with methadone?",
        "I took kratom yesterday and had no alcohol",
        "I stopped mixing kratom with beer",
    ],
    "pregnancy": [
        "is kratom safe during pregnancy?",
        "can pregnant women take kratom?",
        "is taking kratom while pregnant safe?",
        "I'm not pregnant",
        "I'm not breastfeeding anymore",
        "does kratom affect fertility",
    ],
    "minor": [
        "I'm 15 days clean",
        "I'm 16 weeks pregnant",
        "I take 15 grams a day",
        "I've been using kratom for 15 years",
        "I'm 35 and take kratom",
        "I'm 15 years into kratom use",
        "is kratom legal for under 18s?",
        "can teenagers buy kratom?",
        "I'm not a teenager",
        "I'm 16 miles from the nearest shop",
        "I teach 15 year olds",
    ],
    "concentrated_7oh": [
        "what are 7-oh tablets?",
        "is 7oh legal?",
        "are 7-oh gummies stronger than kratom?",
        "should I try 7oh?",
        "I would never take 7oh",
        "I don't take 7-OH",
        "what is 7-hydroxymitragynine",
        "I heard 7oh tablets are dangerous",
    ],
}


@pytest.mark.parametrize(
    "category,text", [(c, t) for c, texts in NEGATIVE.items() for t in texts]
)
def test_general_questions_negations_and_hypotheticals_do_not_flag(risk_matcher, category, text):
    assert category not in categories(risk_matcher, text)


NO_RISK_AT_ALL = [
    "",
    "   ",
    "hi",
    "what is kratom?",
    "is kratom legal in my state",
    "does kratom show up on drug tests",
    "what's the difference between red and green kratom",
    "thanks!",
    "who runs this website",
    "tell me about 7-OH",
    "what is the FDA position on kratom",
]


@pytest.mark.parametrize("text", NO_RISK_AT_ALL)
def test_everyday_questions_have_no_risk(risk_matcher, text):
    assert risk_matcher.find_text(text) == []


# --------------------------------------------------------------------------- spelling variants


@pytest.mark.parametrize(
    "text",
    [
        "I can't stop",
        "I cant stop",
        "I can not stop",
        "I cannot stop",
        "I can’t stop",
        "I CAN'T STOP",
        "i'm addicted",
        "im addicted",
        "i am addicted",
        "I’m addicted",
        "i'm adicted",
        "im addictd",
    ],
)
def test_contractions_apostrophes_and_misspellings_addiction(risk_matcher, text):
    assert "addiction" in categories(risk_matcher, text)


@pytest.mark.parametrize(
    "text", ["I overdosed", "I od'd", "i OD’d", "I oded", "he ODed", "I OD'ed"]
)
def test_overdose_spellings(risk_matcher, text):
    assert "emergency" in categories(risk_matcher, text)


def test_odd_alone_is_not_an_overdose(risk_matcher):
    assert "emergency" not in categories(risk_matcher, "this is odd")
    assert "emergency" not in categories(risk_matcher, "an odd taste")


@pytest.mark.parametrize("kratom", ["kratom", "kratum", "kratim", "ketum", "Kratom"])
def test_kratom_misspellings_in_mixing(risk_matcher, kratom):
    assert "mixing" in categories(risk_matcher, f"I took {kratom} with beer")


@pytest.mark.parametrize("text", ["suicidal", "suicidle", "sucidal", "suicidial"])
def test_suicidal_spellings(risk_matcher, text):
    assert "self_harm" in categories(risk_matcher, f"I feel {text}")


# --------------------------------------------------------------------------- structure of findings


def test_finding_offsets_point_at_the_original_text(risk_matcher):
    text = "OMG!! My Friend Took Too Much Kratom and WON'T wake up"
    findings = risk_matcher.find_text(text)
    assert [f.category for f in findings] == ["emergency"]
    finding = findings[0]
    assert isinstance(finding, RiskFinding)
    assert text[finding.start_char : finding.end_char] == finding.text == "Took Too Much"


def test_one_finding_per_category_first_occurrence(risk_matcher):
    text = "I'm addicted. Honestly I'm addicted and I can't stop."
    findings = risk_matcher.find_text(text)
    assert [f.category for f in findings] == ["addiction"]
    assert findings[0].start_char == 0
    assert findings[0].text == "I'm addicted"


def test_several_categories_in_one_message_sorted_by_position(risk_matcher):
    text = "im 15 and I took kratom with xanax and now I can't breathe"
    findings = risk_matcher.find_text(text)
    assert [f.category for f in findings] == ["minor", "mixing", "emergency"]
    assert findings == sorted(findings, key=lambda f: f.start_char)
    for f in findings:
        assert text[f.start_char : f.end_char] == f.text


def test_guard_is_sentence_scoped(risk_matcher):
    # the general question does not hide the personal statement in the next sentence
    text = "Is kratom addictive? I think I'm addicted."
    assert categories(risk_matcher, text) == {"addiction"}


def test_a_person_in_the_sentence_keeps_an_emergency_question(risk_matcher):
    assert "emergency" in categories(risk_matcher, "can kratom cause seizures? my son is seizing")
    assert "emergency" not in categories(risk_matcher, "can kratom cause seizures?")


def test_needs_person_patterns(risk_matcher):
    assert "addiction" in categories(risk_matcher, "honestly I can't stop")
    assert "addiction" not in categories(risk_matcher, "you can't stop cold turkey, right")


def test_never_general_lines_mark_their_finding(risk_matcher):
    (method,) = risk_matcher.find_text("whats the most peaceful way to go with stuff from a shop")
    assert (method.category, method.never_general) == ("self_harm", True)
    (general,) = risk_matcher.find_text("what are the warning signs of suicide?")
    assert (general.category, general.never_general) == ("self_harm", False)
    # a plain match first in the sentence is still marked when a marked line also matches
    text = "so tired of being alive, whats the most peaceful way to go"
    assert risk_matcher.never_general_in(text) == {"self_harm"}
    assert risk_matcher.never_general_in("is kratom legal in ohio") == set()


def test_an_unknown_pattern_key_is_a_lexicon_error():
    lexicon = _shipped_lexicon_copy()
    lexicon["categories"]["self_harm"]["patterns"].append({"pattern": "zorblax", "general": True})
    with pytest.raises(LexiconError, match="never_general"):
        RiskMatcher(lexicon)


def test_find_accepts_a_doc_that_is_not_lowercased_or_lemmatized(risk_matcher):
    plain = spacy.blank("en")  # no lemmatizer, original casing
    doc = plain("My Husband Is ADDICTED To Kratom")
    findings = risk_matcher.find(doc)
    assert [f.category for f in findings] == ["addiction"]
    assert doc.text[findings[0].start_char : findings[0].end_char] == "Husband Is ADDICTED"


def test_find_on_a_lowercased_doc_like_spacynlp_makes(risk_matcher):
    text = "I Took Kratom With Xanax"
    doc = risk_matcher.nlp(text.lower())
    (finding,) = risk_matcher.find(doc)
    assert finding.category == "mixing"
    assert text[finding.start_char : finding.end_char] == "Took Kratom With Xanax"


def test_offsets_survive_lowercasing_that_changes_length(risk_matcher):
    text = "İstanbul trip. I took too much"  # "İ".lower() is two characters
    assert len(text.lower()) != len(text)
    (finding,) = risk_matcher.find_text(text)
    assert text[finding.start_char : finding.end_char] == "took too much"


def test_line_breaks_separate_sentences(risk_matcher):
    assert "mixing" not in categories(risk_matcher, "I took kratom\n\nalcohol questions here")


# --------------------------------------------------------------------------- lexicon errors


def _shipped_lexicon_copy() -> dict:
    return copy.deepcopy(load_lexicon())


def test_unknown_word_list_is_a_lexicon_error():
    lexicon = _shipped_lexicon_copy()
    lexicon["categories"]["addiction"]["patterns"].append("{no_such_list} addicted")
    with pytest.raises(LexiconError, match="no_such_list"):
        RiskMatcher(lexicon)


def test_a_word_listed_twice_is_a_lexicon_error():
    lexicon = _shipped_lexicon_copy()
    lexicon["words"]["addicted"].append(lexicon["words"]["addicted"][0])
    with pytest.raises(LexiconError, match="listed twice"):
        RiskMatcher(lexicon)


def test_unknown_guard_is_a_lexicon_error():
    lexicon = _shipped_lexicon_copy()
    lexicon["categories"]["mixing"]["guards"] = ["negated", "sometimes"]
    with pytest.raises(LexiconError, match="sometimes"):
        RiskMatcher(lexicon)


def test_all_optional_pattern_is_a_lexicon_error():
    lexicon = _shipped_lexicon_copy()
    lexicon["categories"]["emergency"]["patterns"].append("really? {adv}?")
    with pytest.raises(LexiconError, match="optional"):
        RiskMatcher(lexicon)


def test_misspelled_category_key_is_a_lexicon_error():
    lexicon = _shipped_lexicon_copy()
    lexicon["categories"]["minor"]["pattern"] = ["i'm 12"]
    with pytest.raises(LexiconError, match="pattern"):
        RiskMatcher(lexicon)


def test_unquoted_yaml_boolean_in_a_list_is_a_lexicon_error(tmp_path):
    # `no` unquoted in a YAML list is the boolean False, not the word "no"
    text = DEFAULT_LEXICON_PATH.read_text(encoding="utf-8").replace('"no", none', "no, none", 1)
    path = tmp_path / "lexicon.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LexiconError, match="quote"):
        RiskMatcher.from_path(path)


def test_missing_version_is_a_lexicon_error():
    lexicon = _shipped_lexicon_copy()
    del lexicon["version"]
    with pytest.raises(LexiconError, match="version"):
        RiskMatcher(lexicon)


def test_a_new_phrase_added_to_the_lexicon_is_matched(tmp_path):
    lexicon = _shipped_lexicon_copy()
    lexicon["categories"]["emergency"]["patterns"].append("turning|turned grey|gray")
    path = tmp_path / "lexicon.yml"
    path.write_text(yaml.safe_dump(lexicon, allow_unicode=True), encoding="utf-8")
    matcher = RiskMatcher.from_path(path)
    assert "emergency" in categories(matcher, "he is turning gray")


# --------------------------------------------------------------------------- purity and speed


def test_matcher_module_does_not_import_rasa():
    source = Path(__import__("bot.nlu.risk_matcher", fromlist=["x"]).__file__).read_text()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            assert not any(alias.name.split(".")[0] == "rasa" for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert (node.module or "").split(".")[0] != "rasa"


def test_bench_run_reports_mean_microseconds(risk_matcher):
    result = bench_risk.run(rounds=1, matcher=risk_matcher)
    assert result["messages"] >= 300
    assert 0 < result["match_mean_us"] < result["match_max_us"] + 1e-9


# --------------------------------------------------------------------------- phrase families
# Written for these tests (not taken from the development or held-out sets): each line is one
# way people put a risk that the first lexicon missed.

FAMILIES = {
    "emergency": [
        "my sister is slumped on the floor and not answering",
        "took a lot more than usual and i can't keep my eyes open",
        "his breathing sounds shallow",
        "i can't feel my legs after that extract",
        "heart rate is 175 and climbing",
        "my heart keeps skipping beats",
        "i overdoes on the capsules",
        "nodding out hard and my lips look weird",
        "i cant stop throwing up and i keep passing out",
        "my grandpa is really confused after taking his kratom",
        "she swallowed a whole bottle of pills",
        "drifting in and out after the shots",
    ],
    "self_harm": [
        "there's no point living anymore",
        "i'm so tired of living",
        "i hope i never wake up",
        "i'd rather just go to sleep and not wake up",
        "my family would be better off without me",
        "nobody would even care if i was gone",
        "i wrote a goodbye note",
        "how much would it take to kill me",
        "i don't want to be alive",
        "i'm going to end things tonight",
        "i have all my pills lined up",
        "my friend keeps talking about killing herself",
    ],
    "addiction": [
        "relapsed again last night",
        "withdrawal day 3 and i can't sleep",
        "havent slept since stopping kratom",
        "it's all i think about",
        "i tried to quit, can't quit either",
        "hooked on it for two years now",
        "i need it to function",
        "not gonna lie im hooked",
        "i'm not addicted but can't stop",
    ],
    "mixing": [
        "kratom plus phenibut most nights",
        "xanax plus kratom last night",
        "kratom and hydros together for my knee",
        "drinking all night and took kratom",
        "currently drunk and just dosed",
        "i stir it into my whiskey",
        "i take oxycodone and kratom too",
        "he won't respond after kratom and xanax",
    ],
    "pregnancy": [
        "9 weeks pregnant and using kratom",
        "second trimester, still on kratom",
        "we're expecting and i still take kratom",
        "breast feeding mom, is my kratom ok",
        "pregnant and using every day",
    ],
    "minor": [
        "high schooler here and i take kratom",
        "i'm a junior in high school",
        "im 13 and tried kratom",
        "my teenage daughter vapes kratom",
        "in middle school and my friend sells kratom",
    ],
    "concentrated_7oh": [
        "i take 7oh tablets daily",
        "switched to 7-oh gummies",
        "withdrawal from 7oh is brutal",
        "7oh is all i think about",
        "my husband hits his 7oh pen constantly",
        "hooked on 7 oh shots",
    ],
}


@pytest.mark.parametrize(
    "category,text", [(c, t) for c, texts in FAMILIES.items() for t in texts]
)
def test_phrase_families_flag(risk_matcher, category, text):
    assert category in categories(risk_matcher, text)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("took all my kratom and a bottle of sleeping pills on purpose",
         {"self_harm", "emergency", "mixing"}),
        ("17 and hooked on kratom", {"minor", "addiction"}),
        ("pregnant and going through kratom withdrawal", {"pregnancy", "addiction"}),
        ("im 16, pregnant, and i take 7oh with beer", {"minor", "pregnancy", "concentrated_7oh", "mixing"}),
    ],
)
def test_one_message_carries_several_categories(risk_matcher, text, expected):
    assert expected <= categories(risk_matcher, text)


@pytest.mark.parametrize(
    "category,text",
    [
        ("addiction", "i cant stop throwing up"),
        ("addiction", "i'm addicted to coffee lol"),
        ("addiction", "lots of people get hooked on kratom"),
        ("mixing", "kratom and alcohol"),
        ("mixing", "kratom and benzos together are a deadly combination"),
        ("mixing", "i replaced alcohol with kratom"),
        ("mixing", "i quit drinking and started taking kratom"),
        ("mixing", "I take gabapentin, is kratom ok with that?"),
        ("mixing", "i never drink when i take kratom"),
        ("emergency", "im dying to know if kratom is legal here"),
        ("emergency", "lol im dying"),
        ("emergency", "when should someone call 911 for a bad reaction"),
        ("self_harm", "is there a link between kratom and suicidal thoughts"),
        ("self_harm", "i take it at night so i dont wake up in withdrawal"),
        ("pregnancy", "im expecting a package of kratom tomorrow"),
        ("pregnancy", "pregnant women shouldn't take kratom"),
        ("minor", "my teenage years were rough"),
        ("minor", "when i was 16 i tried kratom"),
        ("minor", "im a college freshman"),
        ("concentrated_7oh", "7oh withdrawal timeline"),
        ("concentrated_7oh", "i heard people take 7oh daily"),
    ],
)
def test_family_lookalikes_do_not_flag(risk_matcher, category, text):
    assert category not in categories(risk_matcher, text)


def test_cant_stop_throwing_up_and_passing_out_is_an_emergency_not_addiction(risk_matcher):
    found = categories(risk_matcher, "i cant stop throwing up and passing out")
    assert "emergency" in found
    assert "addiction" not in found


# --------------------------------------------------------------------------- guards, anchors


def _tiny_lexicon(**categories_patterns) -> dict:
    lexicon = _shipped_lexicon_copy()
    lexicon["categories"] = {
        name: {"guards": guards, "patterns": patterns, "exclude": exclude}
        for name, (guards, patterns, exclude) in categories_patterns.items()
    }
    return lexicon


def test_caret_anchors_a_pattern_at_a_clause_start():
    matcher = RiskMatcher(_tiny_lexicon(addiction=([], ["^ hooked"], [])))
    assert categories(matcher, "hooked on it")
    assert categories(matcher, "ok so, hooked on it")
    assert categories(matcher, "17 and hooked on it")
    assert not categories(matcher, "people get hooked on it")


def test_dollar_anchors_a_line_at_the_sentence_end():
    matcher = RiskMatcher(
        _tiny_lexicon(mixing=([], ["kratom and beer"], ["^ kratom and beer $"]))
    )
    assert not categories(matcher, "kratom and beer")
    assert not categories(matcher, "kratom and beer?")
    assert categories(matcher, "kratom and beer last night")


@pytest.mark.parametrize("line", ["hooked ^ on", "hooked $ on", "^", "^ $"])
def test_misplaced_anchors_are_lexicon_errors(line):
    with pytest.raises(LexiconError):
        RiskMatcher(_tiny_lexicon(addiction=([], [line], [])))


def test_unknown_guard_setting_is_a_lexicon_error():
    lexicon = _shipped_lexicon_copy()
    lexicon["guards"]["clause_opener"] = ["since"]
    with pytest.raises(LexiconError, match="clause_opener"):
        RiskMatcher(lexicon)


def _hooked_matcher(guard: str) -> RiskMatcher:
    """A lexicon whose only phrase is "hooked" (addiction), under one guard."""
    return RiskMatcher(_tiny_lexicon(addiction=([guard], ["hooked"], [])))


def test_detached_framing_skips_only_its_own_sentence_without_a_contrast():
    matcher = _hooked_matcher("detached_framing")
    assert not categories(matcher, "writing a novel where the hero is hooked on it")
    # a contrast word between the framing and the match: the writer turns to themselves
    assert categories(matcher, "doing a school project on it but honestly I'm hooked")
    # negated framing and framing in another sentence do not count
    assert categories(matcher, "not for a story, I'm hooked")
    assert categories(matcher, "writing a novel. am I hooked?")


def test_detached_question_skips_questions_of_a_framed_message_not_statements():
    matcher = _hooked_matcher("detached_question")
    assert not categories(matcher, "why do people get hooked? for my psych class")
    assert categories(matcher, "for my psych class I read about it. I'm hooked")
    assert categories(matcher, "why do people get hooked?")


def test_resolved_past_needs_a_past_time_a_resolution_and_no_contrast():
    matcher = _hooked_matcher("resolved_past")
    assert not categories(matcher, "I was hooked back in 2010 and have been clean ever since")
    assert not categories(matcher, "I was hooked years ago. I'm doing well now")
    assert categories(matcher, "I was hooked years ago")  # no resolution
    assert categories(matcher, "I was hooked years ago and I haven't been fine since")  # negated
    assert categories(matcher, "clean since 2019 but now I'm hooked again. was doing well")
    assert categories(matcher, "back in 2010 I was clean but now I'm hooked, doing well otherwise")


def test_general_ask_skips_its_sentence_and_questions_elsewhere():
    matcher = _hooked_matcher("general_ask")
    assert not categories(matcher, "how do you help a friend who is hooked, asking in general")
    assert not categories(matcher, "how do you help a friend who is hooked? asking in general")
    assert categories(matcher, "asking in general. my friend is hooked")


def test_self_harm_ignores_general_asks_and_hypotheticals(risk_matcher):
    # covers people use for a method question: none of them may hide it
    for text in ["asking in general, how many pills would it take to never wake up",
                 "how many pills would it take to never wake up? asking in general",
                 "just hypothetically, how many pills would it take to never wake up"]:
        assert "self_harm" in categories(risk_matcher, text)


@pytest.mark.parametrize(
    "text, framed",
    [
        ("I'm 16 and doing a school report on kratom. What are its main effects?", True),
        ("went through withdrawal back in 2016, been off it ever since. is there lasting damage?",
         True),
        ("nothing has happened, I just want to be prepared", True),
        # something after the framing turns to the present
        ("doing a school report on kratom but honestly I'm 15 and I use it", False),
        ("I quit back in 2019 and was clean for years. Relapsed last month and now I use daily",
         False),
        ("not for a story. what happens if you take the whole bottle", False),
        ("is kratom legal in Ohio?", False),
    ],
)
def test_frames_as_not_present(risk_matcher, text, framed):
    assert risk_matcher.frames_as_not_present(risk_matcher.make_doc(text)) is framed


def test_resolved_past_keys_are_checked():
    lexicon = _shipped_lexicon_copy()
    lexicon["guards"]["resolved_past"]["resolutions"] = ["fully recovered"]
    with pytest.raises(LexiconError, match="resolved_past"):
        RiskMatcher(lexicon)


def test_context_lines_may_not_use_anchors():
    lexicon = _shipped_lexicon_copy()
    lexicon["guards"]["detached_framing"].append("^ for my class")
    with pytest.raises(LexiconError):
        RiskMatcher(lexicon)


def test_a_match_that_opens_its_clause_ignores_negation_before_it(risk_matcher):
    assert "addiction" in categories(risk_matcher, "i haven't eaten since quitting kratom")
    assert "addiction" not in categories(risk_matcher, "I'm not addicted")


def test_negation_does_not_reach_across_a_clause_opener(risk_matcher):
    assert "mixing" in categories(risk_matcher, "he won't wake after kratom and xanax")
    assert "mixing" not in categories(risk_matcher, "I don't take kratom with alcohol")


def test_hedges_are_not_negations(risk_matcher):
    assert "addiction" in categories(risk_matcher, "not gonna lie im hooked")
    assert "addiction" in categories(risk_matcher, "no joke im hooked on kratom")


def test_a_plan_to_mix_is_mixing_but_a_what_if_is_not(risk_matcher):
    for plan in ("gonna take kratom with my gabapentin tonight",
                 "planning to do kratom and phenibut this weekend",
                 "i'll take my kratom with a few beers at the party"):
        assert "mixing" in categories(risk_matcher, plan), plan
    for what_if in ("can i take kratom with xanax?", "should i drink beer on kratom"):
        assert "mixing" not in categories(risk_matcher, what_if), what_if
    # other categories still read "gonna" as hypothetical
    assert "addiction" not in categories(risk_matcher, "am i gonna get hooked on kratom?")


def test_a_split_gonna_does_not_push_its_negation_out_of_the_window(risk_matcher):
    # spaCy splits "gonna" into "gon" "na"; the window counts it as one word
    assert "mixing" not in categories(risk_matcher, "I'm not gonna mix kratom with alcohol")
    assert "mixing" not in categories(risk_matcher, "im not gonna take kratom with xanax")


def test_plan_cues_must_also_be_hypothetical_cues():
    lexicon = _shipped_lexicon_copy()
    lexicon["guards"]["hypothetical"]["plans"] = ["gonna", "someday"]
    with pytest.raises(LexiconError, match="plans"):
        RiskMatcher(lexicon)


def test_subjectless_statement_is_not_a_question(risk_matcher):
    assert "addiction" in categories(risk_matcher, "havent slept since i quit kratom")
    assert "addiction" in categories(risk_matcher, "have been hooked on kratom for years")
    assert "addiction" not in categories(risk_matcher, "have people been hooked on kratom?")


def test_a_pronoun_pointing_back_to_people_in_general_names_no_one(risk_matcher):
    for text in ("do people get cravings when they stop kratom?",
                 "do people really get withdrawals from kratom or is it in their heads?",
                 "why do some long-term users say they need kratom just to feel normal?"):
        assert "addiction" not in categories(risk_matcher, text), text
    # a real person in the question still counts, and so does "they" with no general noun or
    # after the one asked for help
    for text in ("my friends get cravings when they stop kratom, is that addiction?",
                 "is it normal? my husband gets cravings every time he stops kratom",
                 "they get cravings every time they stop kratom, what do I do?",
                 "does anyone know what to do, they are addicted to kratom?",
                 "can someone help, they're addicted to kratom and can't stop?"):
        assert "addiction" in categories(risk_matcher, text), text


def test_generic_referents_must_not_be_anchors_and_their_pronouns_must_be():
    lexicon = _shipped_lexicon_copy()
    lexicon["guards"]["generic_referents"]["nouns"].append("my")
    with pytest.raises(LexiconError, match="generic_referents.nouns"):
        RiskMatcher(lexicon)
    lexicon = _shipped_lexicon_copy()
    lexicon["guards"]["generic_referents"]["pronouns"].append("theirs")
    with pytest.raises(LexiconError, match="generic_referents.pronouns"):
        RiskMatcher(lexicon)


MIXED_MESSAGES = [
    "Hi, my brother has been drinking a lot lately and last night he took kratom with a few "
    "beers and now he seems really out of it; he is breathing but I can't wake him up.",
    "im 16 and pregnant and i take kratom and xanax, i want to die",
    "I'm not addicted, I just can't stop. Day 4 off kratom and the withdrawal is brutal.",
    "took 7oh tabs with my gabapentin, heart racing, can't feel my hands",
    "is kratom addictive? what about 7oh? can you mix it with beer?",
] + [t for texts in FAMILIES.values() for t in texts]


def test_shared_and_single_line_matchers_find_the_same(risk_matcher, monkeypatch):
    results = []
    for share in (0.0, 2.0):  # always the shared Matcher / never
        monkeypatch.setattr(risk_matcher, "group_share", share)
        results.append([risk_matcher.find_text(t) for t in MIXED_MESSAGES])
    assert results[0] == results[1]


def test_searching_windows_find_the_same_as_whole_sentences(risk_matcher, monkeypatch):
    from bot.nlu import risk_matcher as module

    windowed = [risk_matcher.find_text(t) for t in MIXED_MESSAGES]
    monkeypatch.setattr(module._Rule, "windows", lambda self, ctx, s, e: [(s, e)])
    assert [risk_matcher.find_text(t) for t in MIXED_MESSAGES] == windowed


@pytest.mark.parametrize("prefer", ["fewest spellings", "most spellings"])
def test_the_word_a_line_is_indexed_under_changes_no_finding(risk_matcher, monkeypatch, prefer):
    # the index (and the search window around its word) only saves time: any mandatory word
    # of a line gives the same findings as the rarest one
    from bot.nlu import risk_matcher as module

    sign = 1 if prefer == "fewest spellings" else -1
    monkeypatch.setattr(module, "_index_cost",
                        lambda requirement, *_: sign * sum(map(len, requirement)))
    other = RiskMatcher.from_path(nlp=risk_matcher._nlp)
    assert [other.find_text(t) for t in MIXED_MESSAGES] == [
        risk_matcher.find_text(t) for t in MIXED_MESSAGES
    ]


# --------------------------------------------------------------------------- implicit statements
# Families added in lexicon 2025.11.26.3: situations and behaviours described without the
# usual keywords (own example sentences, not taken from any development or test set).

IMPLICIT_FLAG = [
    # addiction: withdrawal signs near stopping / running out / skipping
    ("addiction", "ran out on friday and now it's sweats and chills all day"),
    ("addiction", "my legs are going crazy at night since i quit, week one"),
    ("addiction", "he gets really cranky whenever he misses his morning dose"),
    ("addiction", "if i don't dose by noon the yawning and sneezing start"),
    # addiction: frequency and escalation
    ("addiction", "she redoses every 2 hours now"),
    ("addiction", "i went from 3g to 15g in a few months"),
    ("addiction", "dosing 6 times a day just to feel normal"),
    # addiction: failed quitting, relapse, hiding, money
    ("addiction", "tried to quit four times this year and failed every one"),
    ("addiction", "six months clean and then i picked it up again"),
    ("addiction", "went back to kratom after my divorce"),
    ("addiction", "i spend $300 a month on kratom"),
    ("addiction", "i keep my powder in the garage so nobody finds out"),
    ("addiction", "took money from my savings to buy more kratom"),
    # mixing: co-use in one sentence, either order
    ("mixing", "a couple of valium after my evening kratom, most nights"),
    ("mixing", "been on suboxone for a year and still take k on weekends"),
    ("mixing", "kratom in the morning and gabapentin at night"),
    # self_harm: passive wishes, research, means and plans
    ("self_harm", "i sometimes hope i just die in my sleep"),
    ("self_harm", "i can't see myself still being around next year"),
    ("self_harm", "how many capsules would stop my heart"),
    ("self_harm", "i keep thinking about walking into the sea"),
    ("self_harm", "i've been giving my stuff away to my friends"),
    ("self_harm", "i want it all to stop for good"),
    # concentrated_7oh: any personal use or possession
    ("concentrated_7oh", "i have a whole bottle of 7o tablets in my drawer"),
    ("concentrated_7oh", "those hydroxy gummies hit way harder than leaf"),
    ("concentrated_7oh", "took half a 7oh tab before work"),
    # pregnancy
    ("pregnancy", "i'm 22 weeks and still dosing kratom"),
    ("pregnancy", "used kratom my whole pregnancy"),
    ("pregnancy", "got a bfp this morning and i'm on kratom"),
    # minor
    ("minor", "grade 9 and i take kratom before school"),
]

IMPLICIT_NO_FLAG = [
    ("addiction", "i quit my job and have anxiety, does kratom help?"),
    ("addiction", "i skipped lunch and took kratom, now i feel nauseous"),
    ("addiction", "i wake up at 7am and take kratom with breakfast"),
    ("addiction", "i keep it on a high shelf so the kids don't find it"),
    ("mixing", "I used kratom to get off oxy"),
    ("mixing", "i took kratom instead of a beer"),
    ("mixing", "how long after a beer should i wait before kratom?"),
    ("mixing", "i drink kratom tea every morning"),
    ("self_harm", "thinking about hanging out with friends more"),
    ("self_harm", "my funeral home job is stressful"),
    ("self_harm", "there's no way out of this phone contract"),
    ("concentrated_7oh", "what is 7-hydroxy exactly?"),
    ("concentrated_7oh", "i heard people take 7oh daily"),
    ("pregnancy", "i'm 12 weeks into my taper and down to 2g"),
    ("minor", "year 10 of taking kratom, no problems"),
]


@pytest.mark.parametrize("category, text", IMPLICIT_FLAG)
def test_implicit_statements_flag(risk_matcher, category, text):
    assert category in categories(risk_matcher, text)


@pytest.mark.parametrize("category, text", IMPLICIT_NO_FLAG)
def test_implicit_lookalikes_do_not_flag(risk_matcher, category, text):
    assert category not in categories(risk_matcher, text)


def test_long_gap_reaches_over_blockers_but_not_sentences():
    lexicon = _tiny_lexicon(addiction=([], ["ran out .... sweats"], []))
    lexicon["settings"]["gap"]["long_max_words"] = 6
    matcher = RiskMatcher(lexicon)
    # "to", "for", "not" block `...` but not `....`
    assert categories(matcher, "ran out, not for long, sweats")
    assert not categories(matcher, "ran out. sweats")
    assert not categories(matcher, "ran out one two three four five six seven sweats")


def test_long_gap_may_not_open_or_close_a_pattern():
    with pytest.raises(LexiconError):
        RiskMatcher(_tiny_lexicon(addiction=([], [".... sweats"], [])))


def _phrase_list_matcher(*patterns: str) -> RiskMatcher:
    """A mixing category over a word list of two-word phrases that share no word."""
    lexicon = _tiny_lexicon(mixing=([], list(patterns), []))
    lexicon["words"]["test_meds"] = ["sleeping pills", "pain killers", "can't sleep pills"]
    return RiskMatcher(lexicon)


@pytest.mark.parametrize(
    "pattern", ["took kratom and {test_meds}", "took kratom .... {test_meds}"]
)
def test_a_word_list_matches_only_the_phrases_it_lists(pattern):
    # phrases of one length share one token sequence; words from two different phrases
    # ("pain pills", "sleeping killers") must not match
    matcher = _phrase_list_matcher(pattern)
    assert categories(matcher, "took kratom and sleeping pills")
    assert categories(matcher, "took kratom and pain killers")
    assert not categories(matcher, "took kratom and pain pills")
    assert not categories(matcher, "took kratom and sleeping killers")


def test_listed_phrases_are_checked_in_every_spelling_of_their_words():
    matcher = _phrase_list_matcher("took kratom and {test_meds}")
    assert categories(matcher, "took kratom and cant sleep pills")
    assert categories(matcher, "took kratom and can not sleep pills")
    assert not categories(matcher, "took kratom and cant sleep killers")


def test_phrase_check_holds_when_lines_run_in_their_category_matcher():
    # several lines at once make `_run` use the category's shared Matcher
    matcher = _phrase_list_matcher(
        "took kratom and {test_meds}", "kratom then {test_meds}", "{test_meds} with kratom"
    )
    assert categories(matcher, "took kratom and pain killers, kratom then sleeping pills")
    assert not categories(matcher, "took kratom and pain pills, kratom then sleeping killers")


def test_phrase_check_between_optional_words_uses_the_alignment():
    # gaps on both sides: where the phrase lies in the match is known only from spaCy's
    # token alignment
    matcher = _phrase_list_matcher("kratom ... {test_meds} ... tonight")
    assert categories(matcher, "kratom and two sleeping pills again tonight")
    assert categories(matcher, "kratom with pain killers tonight")
    assert not categories(matcher, "kratom and two pain pills again tonight")
    assert not categories(matcher, "kratom with sleeping killers tonight")


# --------------------------------------------------------------------------- non_use_stated


@pytest.mark.parametrize(
    "category,statement,rest",
    [
        ("minor", "He hasn't tried it.", "my son is 16 and asked what kratom is."),
        ("minor", "She doesnt use it.", "My daughter is 15 and asked me about kratom."),
        ("pregnancy", "I've never used kratom.", "I'm pregnant. Is kratom in any teas?"),
    ],
)
def test_a_stated_non_use_drops_minor_and_pregnancy(risk_matcher, category, statement, rest):
    assert category in categories(risk_matcher, rest)
    assert category not in categories(risk_matcher, f"{rest} {statement}")


@pytest.mark.parametrize(
    "category,text",
    [
        # doubted, turned, told of someone else's use, or said by someone else than the minor
        ("minor", "my son is 16 and asked what kratom is. He says he hasn't tried it."),
        ("minor", "my son is 16 and asked what kratom is. He hasn't tried it, but I worry."),
        ("minor", "my son is 16 and his friend vapes kratom. He hasn't tried it."),
        ("minor", "my son is 16 and asked what kratom is. I have never tried it."),
        ("minor", "my son is 16 and asked what kratom is. He hasn't tried it. I found a packet."),
        ("pregnancy", "I'm pregnant and take kratom. My husband has never tried it."),
    ],
)
def test_a_doubted_or_contradicted_non_use_keeps_the_flag(risk_matcher, category, text):
    assert category in categories(risk_matcher, text)


def test_non_use_guard_needs_lines_for_its_category():
    lexicon = _shipped_lexicon_copy()
    lexicon["categories"]["addiction"]["guards"].append("non_use_stated")
    with pytest.raises(LexiconError, match="non_use"):
        RiskMatcher(lexicon)


def test_a_stated_non_use_frames_only_its_categories_as_not_present(risk_matcher):
    doc = risk_matcher.make_doc("my son is 16 and asked what kratom is. He hasn't tried it.")
    assert risk_matcher.frames_as_not_present(doc, "minor")
    assert not risk_matcher.frames_as_not_present(doc, "addiction")
    assert not risk_matcher.frames_as_not_present(doc)


def test_spell_line_shows_that_spaces_separate_slots():
    # The trap it exists for: "|" binds inside one slot, so this line never reads
    # "only thing keeping me".
    assert spell_line("only thing that gets|keeping me") == [
        "only thing that gets me",
        "only thing that keeping me",
    ]


def test_spell_line_marks_optional_slots_and_keeps_gaps_and_anchors():
    # "?" makes the whole slot optional, alternatives included.
    assert spell_line("^ ran|run? out ... {wd_symptom} $") == ["^ [ran|run] out ... {wd_symptom} $"]
    assert spell_line("took|had too much") == ["took too much", "had too much"]


def test_spell_option_prints_each_wording(capsys):
    assert main(["--spell", "gets|keeping me"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "'gets|keeping me' reads as:", "  gets me", "  keeping me"
    ]


def test_every_lexicon_line_has_a_witness(risk_matcher):
    # A line that matches no example and no labelled message is speculative or broken: spaces
    # separate slots, so "mensaje de despedida|carta de despedida" never matched either
    # phrase. Fix such a line, or give it a flag (or, for an exclude line, a no_flag) example.
    root = Path(__file__).resolve().parents[2]
    labelled = RiskExamples.from_files(
        risk_example_files([root / "data" / "risk", root / "data" / "risk_candidates"])
    )
    texts = list(labelled.texts)
    for category in risk_matcher.categories:
        should, should_not = risk_matcher.examples(category)
        texts += list(should) + list(should_not)
    unmatched = risk_matcher.lines_never_matched(texts)
    assert unmatched == [], "\n".join(f"{c} {kind}: {line!r}" for c, kind, line in unmatched)


@pytest.mark.parametrize("text", ["goodbye", "thank you, goodbye", "ok bye!", "Thanks so much"])
def test_small_talk_is_not_a_present_risk(risk_matcher, text):
    # The classifier, trained on goodbye notes, read a bare "goodbye" as self-harm.
    assert risk_matcher.frames_as_not_present(risk_matcher.make_doc(text), "self_harm")


@pytest.mark.parametrize("text", ["this is my goodbye", "goodbye everyone", "bye forever"])
def test_a_farewell_that_says_more_is_not_small_talk(risk_matcher, text):
    assert not risk_matcher.frames_as_not_present(risk_matcher.make_doc(text), "self_harm")


def test_lexicon_matches_stand_in_a_farewell(risk_matcher):
    assert "self_harm" in risk_matcher.categories_in("goodbye forever")
