"""RiskPhraseDetector built and run the way Rasa 3.6 builds and runs it.

A session fixture builds the offline spaCy pipeline (bot/nlu/spacy_pipeline.py) into a temp
directory; Rasa's own SpacyNLP loads it from that path and SpacyTokenizer tokenizes with it.
"""

import copy
import logging
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
import yaml
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.constants import SPACY_DOCS, TOKENS_NAMES
from rasa.nlu.tokenizers.spacy_tokenizer import SpacyTokenizer
from rasa.nlu.utils.spacy_utils import SpacyModel, SpacyNLP
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu import spacy_pipeline
from bot.nlu.risk_detector import RiskPhraseDetector
from bot.nlu.risk_matcher import DEFAULT_LEXICON_PATH

DETECTOR_PATH = "bot.nlu.risk_detector.RiskPhraseDetector"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def risk_test_spacy_pipeline_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The offline pipeline, built once per test session into a temp directory."""
    path = tmp_path_factory.mktemp("spacy") / "en_kratom_lookup"
    spacy_pipeline.build(path)
    return path


@pytest.fixture(scope="session")
def risk_test_execution_context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "risk-detector-test")


@pytest.fixture(scope="session")
def risk_test_model_storage(tmp_path_factory: pytest.TempPathFactory) -> LocalModelStorage:
    return LocalModelStorage(tmp_path_factory.mktemp("model_storage"))


@pytest.fixture(scope="session")
def risk_test_spacy_nlp(
    risk_test_spacy_pipeline_dir, risk_test_model_storage, risk_test_execution_context
) -> SpacyNLP:
    """Rasa's SpacyNLP with `model: <path>` (default config: case_sensitive False)."""
    return SpacyNLP.create(
        {**SpacyNLP.get_default_config(), "model": str(risk_test_spacy_pipeline_dir)},
        risk_test_model_storage,
        Resource("SpacyNLP"),
        risk_test_execution_context,
    )


@pytest.fixture(scope="session")
def risk_test_spacy_tokenizer(
    risk_test_model_storage, risk_test_execution_context
) -> SpacyTokenizer:
    return SpacyTokenizer.create(
        SpacyTokenizer.get_default_config(),
        risk_test_model_storage,
        Resource("SpacyTokenizer"),
        risk_test_execution_context,
    )


def make_detector(
    model_storage: LocalModelStorage,
    execution_context: ExecutionContext,
    config: Optional[Dict[str, Any]] = None,
) -> RiskPhraseDetector:
    """As Rasa's GraphNode does: default config merged with the config.yml entry, then create."""
    merged = {**RiskPhraseDetector.get_default_config(), **(config or {})}
    return RiskPhraseDetector.create(
        merged, model_storage, Resource("RiskPhraseDetector"), execution_context
    )


@pytest.fixture(scope="session")
def risk_detector(risk_test_model_storage, risk_test_execution_context) -> RiskPhraseDetector:
    return make_detector(risk_test_model_storage, risk_test_execution_context)


@pytest.fixture
def run_risk_pipeline(risk_test_spacy_nlp, risk_test_spacy_tokenizer, risk_detector):
    """SpacyNLP -> SpacyTokenizer -> RiskPhraseDetector on one message, like `rasa run`."""

    def run(
        text: str,
        entities: Optional[List[Dict[str, Any]]] = None,
        detector: Optional[RiskPhraseDetector] = None,
        spacy_nlp: Optional[SpacyNLP] = None,
    ) -> Message:
        data: Dict[str, Any] = {TEXT: text}
        if entities is not None:
            data[ENTITIES] = copy.deepcopy(entities)
        message = Message(data=data)
        nlp = spacy_nlp or risk_test_spacy_nlp
        nlp.process([message], nlp.provide())
        risk_test_spacy_tokenizer.process([message])
        (detector or risk_detector).process([message])
        return message

    return run


def risk_entities(message: Message) -> List[Dict[str, Any]]:
    return [e for e in message.get(ENTITIES) or [] if e.get("entity") == "risk"]


# --------------------------------------------------------------------------- the spaCy pipeline


def test_pipeline_build_is_idempotent_and_rebuilds_on_request(tmp_path, capsys):
    path = tmp_path / "pipe"
    assert spacy_pipeline.main([str(path)]) == 0
    assert "new build" in capsys.readouterr().out
    assert spacy_pipeline.is_current(path)
    assert spacy_pipeline.main([str(path)]) == 0
    assert "up to date" in capsys.readouterr().out
    assert spacy_pipeline.main([str(path), "--force"]) == 0
    assert "forced rebuild" in capsys.readouterr().out


def test_pipeline_from_another_recipe_is_rebuilt(tmp_path):
    import spacy

    path = tmp_path / "pipe"
    spacy.blank("en").to_disk(path)  # e.g. someone's plain blank pipeline
    assert not spacy_pipeline.is_current(path)
    assert spacy_pipeline.build(path).startswith("rebuilt")
    assert spacy_pipeline.is_current(path)


def test_spacynlp_loads_the_pipeline_from_a_path(risk_test_spacy_pipeline_dir):
    model = SpacyNLP.load_model(str(risk_test_spacy_pipeline_dir))  # passes the version check
    assert isinstance(model, SpacyModel)
    SpacyNLP.ensure_proper_language_model(model.model)  # nlp.path is set
    assert model.model.pipe_names == ["lemmatizer"]
    assert model.model.vocab.vectors.shape[0] == 0  # no vectors: no SpacyFeaturizer
    assert model.fingerprint() == str(risk_test_spacy_pipeline_dir)


def test_spacynlp_lowercases_and_the_tokenizer_gets_lemmas(run_risk_pipeline):
    text = "My Friend TOOK Kratom"
    message = run_risk_pipeline(text)
    assert message.get(SPACY_DOCS[TEXT]).text == text.lower()  # SpacyNLP's default
    tokens = message.get(TOKENS_NAMES[TEXT])
    assert [t.text for t in tokens] == ["my", "friend", "took", "kratom"]
    assert [t.start for t in tokens] == [0, 3, 10, 15]
    assert tokens[2].lemma == "take"


# --------------------------------------------------------------------------- registration


def test_component_is_registered_as_trainable_entity_extractor():
    registered = DefaultV1Recipe._from_registry(DETECTOR_PATH)
    assert registered.clazz is RiskPhraseDetector
    assert registered.types == {DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR}
    assert registered.is_trainable is True


def test_config_yml_pipeline_validates_and_predicts_through_rasa_graph(
    risk_test_spacy_pipeline_dir, tmp_path
):
    from rasa.core.channels.channel import UserMessage
    from rasa.engine import validation
    from rasa.engine.recipes.recipe import Recipe
    from rasa.engine.runner.dask import DaskGraphRunner
    from rasa.shared.data import TrainingType

    config = {
        "recipe": "default.v1",
        "language": "en",
        "assistant_id": "risk-test",
        "pipeline": [
            {"name": "SpacyNLP", "model": str(risk_test_spacy_pipeline_dir)},
            {"name": "SpacyTokenizer"},
            # Lexicon only: the untrained graph has no classifier to load.
            {"name": DETECTOR_PATH, "training_data": []},
        ],
        "policies": [],
    }
    model_config = Recipe.recipe_for_name("default.v1").graph_config_for_recipe(
        config, {}, training_type=TrainingType.NLU
    )
    validation.validate(model_config)  # checks the component's signatures and types
    schema = model_config.predict_schema
    target = next(name for name in schema.nodes if "RiskPhraseDetector" in name)
    runner = DaskGraphRunner(
        schema, LocalModelStorage(tmp_path / "storage"), ExecutionContext(schema, "risk-test")
    )
    text = "My Friend took too much Kratom and WON'T wake up"
    (message,) = runner.run(inputs={"__message__": [UserMessage(text)]}, targets=[target])[target]
    assert risk_entities(message) == [
        {
            "entity": "risk",
            "value": "emergency",
            "start": 10,
            "end": 23,
            "confidence_entity": 1.0,
            "extractor": "RiskPhraseDetector",
        }
    ]
    assert text[10:23] == "took too much"
    assert "entities" in message.as_dict(only_output_properties=True)


# --------------------------------------------------------------------------- entities


def test_entity_shape_and_offsets_in_the_original_text(run_risk_pipeline):
    text = "HELP my Brother Is Not Breathing"
    (entity,) = risk_entities(run_risk_pipeline(text))
    assert set(entity) == {"entity", "value", "start", "end", "confidence_entity", "extractor"}
    assert entity["value"] == "emergency"
    assert entity["confidence_entity"] == 1.0
    assert entity["extractor"] == "RiskPhraseDetector"
    assert text[entity["start"] : entity["end"]] == "Not Breathing"


def test_entities_from_other_extractors_are_kept(run_risk_pipeline):
    other = {
        "entity": "substance",
        "value": "alcohol",
        "start": 22,
        "end": 29,
        "extractor": "RegexEntityExtractor",
    }
    message = run_risk_pipeline("I took kratom with my alcohol", entities=[other])
    entities = message.get(ENTITIES)
    assert entities[0] == other
    assert [e["value"] for e in risk_entities(message)] == ["mixing"]
    assert len(entities) == 2


def test_one_entity_per_category(run_risk_pipeline):
    text = "he's not breathing, he overdosed and won't wake up. I'm addicted, I'm so addicted"
    message = run_risk_pipeline(text)
    values = [e["value"] for e in risk_entities(message)]
    assert sorted(values) == ["addiction", "emergency"]
    emergency = next(e for e in risk_entities(message) if e["value"] == "emergency")
    assert text[emergency["start"] : emergency["end"]] == "not breathing"  # first occurrence


def test_several_categories_each_get_an_entity(run_risk_pipeline):
    text = "I'm 16 and pregnant and I took kratom with xanax and I want to die"
    values = {e["value"] for e in risk_entities(run_risk_pipeline(text))}
    assert values == {"minor", "pregnancy", "mixing", "self_harm"}


@pytest.mark.parametrize(
    "text",
    [
        "is kratom addictive?",
        "can you overdose on kratom?",
        "is it safe to mix kratom and alcohol?",
        "what are withdrawal symptoms",
        "I'm not addicted",
        "hello",
    ],
)
def test_general_questions_get_no_risk_entity(run_risk_pipeline, text):
    message = run_risk_pipeline(text)
    assert risk_entities(message) == []
    assert not message.get(ENTITIES)


def test_processing_twice_adds_no_duplicates(run_risk_pipeline, risk_detector):
    message = run_risk_pipeline("I can't stop taking it")
    risk_detector.process([message])
    assert [e["value"] for e in risk_entities(message)] == ["addiction"]


def test_case_sensitive_spacynlp_still_maps_spans(
    run_risk_pipeline,
    risk_test_spacy_pipeline_dir,
    risk_test_model_storage,
    risk_test_execution_context,
):
    case_sensitive = SpacyNLP.create(
        {"model": str(risk_test_spacy_pipeline_dir), "case_sensitive": True},
        risk_test_model_storage,
        Resource("SpacyNLP-cs"),
        risk_test_execution_context,
    )
    text = "I Can't Stop Taking It"
    message = run_risk_pipeline(text, spacy_nlp=case_sensitive)
    assert message.get(SPACY_DOCS[TEXT]).text == text
    (entity,) = risk_entities(message)
    assert text[entity["start"] : entity["end"]] == "Can't Stop Taking"


def test_without_a_spacy_doc_it_tokenizes_itself_and_warns_once(
    risk_test_model_storage, risk_test_execution_context, caplog
):
    detector = make_detector(risk_test_model_storage, risk_test_execution_context)
    first = Message(data={TEXT: "I took kratom with 3 beers"})
    second = Message(data={TEXT: "I'm pregnant"})
    with caplog.at_level(logging.WARNING, logger="bot.nlu.risk_detector"):
        detector.process([first, second])
    assert [e["value"] for e in risk_entities(first)] == ["mixing"]
    assert [e["value"] for e in risk_entities(second)] == ["pregnancy"]
    warnings = [r for r in caplog.records if "no spaCy doc" in r.getMessage()]
    assert len(warnings) == 1


def test_message_without_text_is_left_alone(risk_detector):
    message = Message(data={"intent": {"name": "greet"}})
    risk_detector.process([message])
    assert message.get(ENTITIES) is None


# --------------------------------------------------------------------------- lexicon_path


def test_default_lexicon_is_found_from_any_working_directory(
    tmp_path, monkeypatch, risk_test_model_storage, risk_test_execution_context
):
    monkeypatch.chdir(tmp_path)
    detector = make_detector(risk_test_model_storage, risk_test_execution_context)
    assert RiskPhraseDetector.lexicon_path(detector._config) == DEFAULT_LEXICON_PATH
    assert detector.matcher.source == str(DEFAULT_LEXICON_PATH)


def test_lexicon_path_config_is_used(
    tmp_path, run_risk_pipeline, risk_test_model_storage, risk_test_execution_context
):
    lexicon = yaml.safe_load(DEFAULT_LEXICON_PATH.read_text(encoding="utf-8"))
    lexicon["version"] = "test-1"
    lexicon["categories"]["emergency"]["patterns"].append("purple elephant")
    path = tmp_path / "custom_lexicon.yml"
    path.write_text(yaml.safe_dump(lexicon, allow_unicode=True), encoding="utf-8")

    custom = make_detector(
        risk_test_model_storage, risk_test_execution_context, {"lexicon_path": str(path)}
    )
    assert custom.matcher.version == "test-1"
    text = "I see a purple elephant"
    assert [e["value"] for e in risk_entities(run_risk_pipeline(text, detector=custom))] == [
        "emergency"
    ]
    assert risk_entities(run_risk_pipeline(text)) == []  # the shipped lexicon does not


def test_relative_lexicon_path_is_resolved_against_the_working_directory(
    tmp_path, monkeypatch, risk_test_model_storage, risk_test_execution_context
):
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "lex.yml").write_text(
        DEFAULT_LEXICON_PATH.read_text(encoding="utf-8"), encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    detector = make_detector(
        risk_test_model_storage, risk_test_execution_context, {"lexicon_path": "conf/lex.yml"}
    )
    assert detector.matcher.source == "conf/lex.yml"


def test_missing_lexicon_fails_loudly_at_load_time(
    tmp_path, risk_test_model_storage, risk_test_execution_context
):
    with pytest.raises(FileNotFoundError, match="lexicon_path"):
        make_detector(
            risk_test_model_storage,
            risk_test_execution_context,
            {"lexicon_path": str(tmp_path / "nope.yml")},
        )


# --------------------------------------------------------------------------- the classifier


def _untrained_detector_with_writers(write_writers, tmp_path, execution_context):
    """A detector configured to train its classifier on the writers `write_writers` makes,
    with its config, model storage and resource."""
    data_dir = tmp_path / "risk"
    data_dir.mkdir()
    write_writers(data_dir)
    (tmp_path / "storage").mkdir()
    storage = LocalModelStorage(tmp_path / "storage")
    config = {**RiskPhraseDetector.get_default_config(), "training_data": [str(data_dir)]}
    resource = Resource("RiskPhraseDetector")
    detector = RiskPhraseDetector.create(config, storage, resource, execution_context)
    return detector, config, storage, resource


def test_training_stores_a_classifier_that_load_brings_back(
    run_risk_pipeline, risk_test_execution_context, tmp_path
):
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from tests.unit.test_risk_classifier import invented_word_writers

    trained, config, storage, resource = _untrained_detector_with_writers(
        invented_word_writers, tmp_path, risk_test_execution_context
    )
    topic_questions = TrainingData(training_examples=[
        Message(data={TEXT: "what is kratom", "intent": "ask_what_is_kratom"}),
        Message(data={TEXT: "I overdosed on kratom", "intent": "ask_safety"}),
    ])
    assert trained.train(topic_questions) == resource

    loaded = RiskPhraseDetector.load(config, storage, resource, risk_test_execution_context)
    assert loaded.classifier.decisions == trained.classifier.decisions
    message = run_risk_pipeline("ready for the zorblax thing", detector=loaded)
    (entity,) = risk_entities(message)
    assert entity["value"] == "self_harm"
    assert (entity["start"], entity["end"]) == (0, len("ready for the zorblax thing"))
    assert 0 < entity["confidence_entity"] <= 1.0
    # The lexicon still works alongside, with its own span and confidence.
    emergency = risk_entities(run_risk_pipeline("my friend is not breathing", detector=loaded))
    assert [e["value"] for e in emergency] == ["emergency"]
    assert emergency[0]["confidence_entity"] == 1.0 and emergency[0]["start"] > 0


def test_the_lexicons_framing_guards_reach_the_classifiers_own_flags(
    run_risk_pipeline, risk_test_execution_context, tmp_path
):
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from tests.unit.test_risk_classifier import invented_minor_writers

    detector, *_ = _untrained_detector_with_writers(
        invented_minor_writers, tmp_path, risk_test_execution_context
    )
    detector.train(TrainingData(training_examples=[]))

    def values(text: str) -> List[str]:
        return [e["value"] for e in risk_entities(run_risk_pipeline(text, detector=detector))]

    assert values("me and my mates went blorptastic again") == ["minor"]
    assert values("me and my mates went blorptastic again, for my school report") == []
    # a crisis only the classifier finds is no exception (a lexicon match would stand)
    assert values("i keep planning the zorblax thing soon") == ["self_harm"]
    assert values("i keep planning the zorblax thing soon, for my school report") == []


def test_loading_without_a_trained_classifier_fails_loudly(risk_test_execution_context, tmp_path):
    storage = LocalModelStorage(tmp_path / "storage")
    with pytest.raises(ValueError):
        RiskPhraseDetector.load(RiskPhraseDetector.get_default_config(), storage,
                                Resource("RiskPhraseDetector"), risk_test_execution_context)


def test_fingerprint_follows_the_training_files_and_the_lexicon(tmp_path):
    data_dir = tmp_path / "risk"
    data_dir.mkdir()
    lexicon = tmp_path / "lexicon.yml"
    lexicon.write_text(DEFAULT_LEXICON_PATH.read_text())
    config = {"training_data": [str(data_dir)], "lexicon_path": str(lexicon)}
    (data_dir / "a.yml").write_text("risk_statements: []\n")
    before = RiskPhraseDetector.fingerprint_addon(config)
    assert RiskPhraseDetector.fingerprint_addon(config) == before
    (data_dir / "a.yml").write_text("risk_statements: []\nordinary_questions: [hi]\n")
    after_data = RiskPhraseDetector.fingerprint_addon(config)
    assert after_data != before
    lexicon.write_text(lexicon.read_text() + "\n# edited\n")
    assert RiskPhraseDetector.fingerprint_addon(config) != after_data


def test_fingerprint_follows_the_classifier_training_code(tmp_path, monkeypatch):
    from bot.nlu import risk_classifier

    code = tmp_path / "risk_classifier.py"
    code.write_text(Path(risk_classifier.__file__).read_text())
    config = {"training_data": []}
    monkeypatch.setattr(risk_classifier, "__file__", str(code))
    before = RiskPhraseDetector.fingerprint_addon(config)
    code.write_text(code.read_text() + "\n# a changed budget\n")
    assert RiskPhraseDetector.fingerprint_addon(config) != before
