"""Rasa 3.6 NLU component that flags risk phrases as `risk` entities.

config.yml (after the spaCy components, so it can reuse their doc)::

    pipeline:
      - name: SpacyNLP
        model: var/spacy/en_kratom_lookup
      - name: SpacyTokenizer
      - name: bot.nlu.risk_detector.RiskPhraseDetector
        # lexicon_path: bot/nlu/risk_lexicon.yml   # optional; default: next to this module
        # training_data: [data/risk]                # labelled messages for the classifier

Two detectors, either of which flags a category:

1. the lexicon (`RiskMatcher`): phrases staff can read and extend, read when the model is
   loaded, so an edited lexicon takes effect on the next restart without retraining;
2. a learned classifier (`RiskClassifier`), trained by `rasa train` on the labelled messages
   under `training_data` (the NLU topic questions the lexicon does not flag are added as
   ordinary messages) and stored in the model. Its thresholds are chosen by cross-validation
   (see risk_classifier.py). Rasa's training cache fingerprints those files, the lexicon and
   the classifier's code (`fingerprint_addon`).

A lexicon match for emergency or self-harm stands in any message that speaks personally
(I, we, he, she, "help", "now", or under five words); in a general question the classifier may
overrule it only when it scores the message below every real crisis of that kind it saw. For
the other categories the classifier may overrule a match it is nearly sure is harmless, and
adds none of its own where the message frames itself as fiction, study, a general ask or a
past event that is over, nor a minor or a pregnancy where it says that person does not use
kratom (`RiskMatcher.frames_as_not_present`). Beside a flagged emergency or
self-harm, every lexicon match stands.

For every category found in a message it appends one entity
``{"entity": "risk", "value": <category>, "start", "end", "confidence_entity",
"extractor": "RiskPhraseDetector"}`` and keeps the entities other extractors added: the
lexicon's match span with confidence 1.0, or, for a category only the classifier found, the
whole message with the classifier's score. It works whatever the intent classifier thinks of
the message. The domain must declare the `risk` entity.
"""

import hashlib
import logging
import tarfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Text, Tuple

import joblib
from spacy.tokens import Doc

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import ENTITY_ATTRIBUTE_CONFIDENCE_TYPE, SPACY_DOCS
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu import risk_classifier
from bot.nlu.risk_classifier import RiskClassifier, RiskExamples, risk_example_files
from bot.nlu.risk_matcher import DEFAULT_LEXICON_PATH, RiskFinding, RiskMatcher

logger = logging.getLogger(__name__)

RISK_ENTITY = "risk"
LEXICON_PATH_KEY = "lexicon_path"
TRAINING_DATA_KEY = "training_data"
FALSE_FLAG_BUDGET_KEY = "false_flag_budget"
CLASSIFIER_FILE = "risk_classifier.joblib"


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True
)
class RiskPhraseDetector(GraphComponent, EntityExtractorMixin):
    """Adds a `risk` entity per risk category that the lexicon (`RiskMatcher`) and the trained
    `RiskClassifier` together decide on."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """The component's default config (see parent class for full docstring)."""
        return {
            # Path of the risk lexicon. None: the lexicon shipped next to this module
            # (resolved from the package, not the working directory). A relative path is
            # resolved against the working directory Rasa runs in.
            LEXICON_PATH_KEY: None,
            # Files or folders (searched for *.yml) of labelled messages for the classifier,
            # relative to the working directory `rasa train` runs in. Empty: lexicon only.
            TRAINING_DATA_KEY: ["data/risk"],
            # Per-category share of ordinary messages the classifier may flag in
            # cross-validation; unset categories use risk_classifier's defaults.
            FALSE_FLAG_BUDGET_KEY: {},
        }

    @staticmethod
    def required_packages() -> List[Text]:
        """Any extra python dependencies required for this component to run.

        Rasa imports these names to validate and looks them up as distributions to fingerprint,
        so only packages whose import and distribution names agree are listed (PyYAML and
        scikit-learn are Rasa's own dependencies anyway)."""
        return ["spacy", "joblib"]

    def __init__(
        self,
        config: Dict[Text, Any],
        matcher: RiskMatcher,
        model_storage: Optional[ModelStorage] = None,
        resource: Optional[Resource] = None,
        classifier: Optional[RiskClassifier] = None,
    ) -> None:
        """Creates the component around an already compiled matcher (and trained classifier)."""
        self._config = config
        self._matcher = matcher
        self._model_storage = model_storage
        self._resource = resource
        self._classifier = classifier
        self._warned_no_doc = False

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "RiskPhraseDetector":
        """Reads and compiles the lexicon (fails loudly if it is missing or malformed)."""
        config = {**cls.get_default_config(), **config}
        return cls(config, cls._compile_lexicon(config), model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "RiskPhraseDetector":
        """Compiles the lexicon and loads the classifier trained with the model."""
        config = {**cls.get_default_config(), **config}
        classifier = None
        if config.get(TRAINING_DATA_KEY):
            # A model trained with classifier data must have its classifier: fail loudly
            # rather than serve with half the detector missing.
            with model_storage.read_from(resource) as directory:
                classifier = joblib.load(directory / CLASSIFIER_FILE)
        return cls(config, cls._compile_lexicon(config), model_storage, resource, classifier)

    @staticmethod
    def classifier_in_model(model_archive: Path) -> Optional[RiskClassifier]:
        """The classifier stored in a trained model archive (for evaluation and benchmarks),
        None if the model has none."""
        with tarfile.open(model_archive) as archive:
            for member in archive.getmembers():
                if member.name.endswith(f"/{CLASSIFIER_FILE}"):
                    return joblib.load(archive.extractfile(member))
        return None

    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[str]:
        """Hash of the classifier's training files, of the lexicon (its thresholds are chosen
        against the lexicon's matches) and of the training code (Rasa fingerprints only config
        and NLU data), so changing any of them retrains the component."""
        config = {**cls.get_default_config(), **config}
        digest = hashlib.sha256()
        paths = [Path(p) for p in config.get(TRAINING_DATA_KEY) or []]
        training_code = Path(risk_classifier.__file__)
        for path in [training_code, cls.lexicon_path(config), *risk_example_files(paths)]:
            digest.update(str(path).encode())
            digest.update(path.read_bytes())
        return digest.hexdigest()

    def train(self, training_data: TrainingData) -> Resource:
        """Trains the classifier on the labelled risk messages and stores it in the model."""
        paths = [Path(p) for p in self._config.get(TRAINING_DATA_KEY) or []]
        if not paths:
            return self._resource
        examples = RiskExamples.from_files(risk_example_files(paths))
        lexicon = self._matcher.categories_in
        examples.add_background((m.get(TEXT) for m in training_data.intent_examples), lexicon)
        self._classifier = RiskClassifier.train(
            examples, lexicon=lexicon,
            false_flag_budget=self._config.get(FALSE_FLAG_BUDGET_KEY) or {},
            never_general=self._matcher.never_general_in,
        )
        logger.info(
            "RiskPhraseDetector: classifier trained on %d statements, %d ordinary messages "
            "and %d topic questions; decisions %s",
            len(examples.texts) - sum(examples.is_ordinary), sum(examples.is_ordinary),
            len(examples.background), self._classifier.decisions,
        )
        with self._model_storage.write_to(self._resource) as directory:
            joblib.dump(self._classifier, directory / CLASSIFIER_FILE)
        return self._resource

    @classmethod
    def _compile_lexicon(cls, config: Dict[Text, Any]) -> RiskMatcher:
        path = cls.lexicon_path(config)
        matcher = RiskMatcher.from_path(path)
        logger.info(
            "RiskPhraseDetector: lexicon %s version %s, categories %s",
            path,
            matcher.version,
            ", ".join(matcher.categories),
        )
        return matcher

    @staticmethod
    def lexicon_path(config: Dict[Text, Any]) -> Path:
        """The lexicon file `config` points at (default: the packaged lexicon)."""
        configured: Optional[Text] = config.get(LEXICON_PATH_KEY)
        if not configured:
            return DEFAULT_LEXICON_PATH
        path = Path(configured).expanduser()
        if not path.is_file():
            raise FileNotFoundError(
                f"RiskPhraseDetector: lexicon_path '{configured}' is not a file "
                f"(resolved to '{path.resolve()}', working directory '{Path.cwd()}')."
            )
        return path

    @property
    def matcher(self) -> RiskMatcher:
        """The compiled matcher (exposed for tests and diagnostics)."""
        return self._matcher

    @property
    def classifier(self) -> Optional[RiskClassifier]:
        """The trained classifier, None before training or when configured off."""
        return self._classifier

    def process(self, messages: List[Message]) -> List[Message]:
        """Appends one `risk` entity per category found in each message's text."""
        for message in messages:
            text = message.get(TEXT)
            if not text or not isinstance(text, str):
                continue
            findings, doc = self._findings(message, text)
            if self._classifier is not None:
                findings = self._second_opinion(text, doc, findings)
            if not findings:
                continue
            entities = list(message.get(ENTITIES) or [])
            already = {
                entity.get(ENTITY_ATTRIBUTE_VALUE)
                for entity in entities
                if entity.get(ENTITY_ATTRIBUTE_TYPE) == RISK_ENTITY
                and entity.get(EXTRACTOR) == self.name
            }
            new = [self._entity(f) for f in findings if f.category not in already]
            message.set(ENTITIES, entities + self.add_extractor_name(new), add_to_output=True)
        return messages

    def _second_opinion(
        self, text: Text, doc: Doc, findings: List[RiskFinding]
    ) -> List[RiskFinding]:
        """The classifier's decision per category: lexicon matches it keeps (with their
        spans) and categories only it found (spanning the whole message). `doc` is the one
        the lexicon read."""
        by_category = {f.category: f for f in findings}
        decided = self._classifier.decide(
            text,
            by_category,
            lambda category: self._matcher.frames_as_not_present(doc, category),
            never_general={f.category for f in findings if f.never_general},
        )
        return [
            by_category.get(category) or RiskFinding(category, 0, len(text), text, score)
            for category, score in decided.items()
        ]

    def _findings(self, message: Message, text: Text) -> Tuple[List[RiskFinding], Doc]:
        """The lexicon's findings, and the doc they were found in."""
        doc = message.get(SPACY_DOCS[TEXT])
        # SpacyNLP lower-cases the text by default (case_sensitive: False), so its doc is
        # usable only if its characters line up one-to-one with the original text.
        if doc is not None and len(doc.text) == len(text) and doc.text.lower() == text.lower():
            return self._matcher.find(doc), doc
        if doc is None and not self._warned_no_doc:
            self._warned_no_doc = True
            logger.warning(
                "RiskPhraseDetector: no spaCy doc on the message (is SpacyNLP before it in "
                "config.yml?); tokenizing with its own pipeline instead."
            )
        own_doc = self._matcher.make_doc(text)
        return self._matcher.find_text(text, own_doc), own_doc

    @staticmethod
    def _entity(finding: RiskFinding) -> Dict[Text, Any]:
        return {
            ENTITY_ATTRIBUTE_TYPE: RISK_ENTITY,
            ENTITY_ATTRIBUTE_VALUE: finding.category,
            ENTITY_ATTRIBUTE_START: finding.start_char,
            ENTITY_ATTRIBUTE_END: finding.end_char,
            ENTITY_ATTRIBUTE_CONFIDENCE_TYPE: finding.confidence,  # "confidence_entity"
        }
