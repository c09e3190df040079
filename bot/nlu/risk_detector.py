"""Rasa 3.6 NLU component that flags risk phrases as `risk` entities.

config.yml (after the spaCy components, so it can reuse their doc)::

    pipeline:
      - name: SpacyNLP
        model: var/spacy/en_kratom_lookup
      - name: SpacyTokenizer
      - name: bot.nlu.risk_detector.RiskPhraseDetector
        # lexicon_path: bot/nlu/risk_lexicon.yml   # optional; default: next to this module

For every category found in a message it appends one entity
``{"entity": "risk", "value": <category>, "start", "end", "confidence_entity": 1.0,
"extractor": "RiskPhraseDetector"}`` and keeps the entities other extractors added. It works
whatever the intent classifier thinks of the message. The domain must declare the `risk` entity.

Not trainable, so Rasa never runs it while training and never fingerprints the lexicon: the
lexicon is read when the model is loaded (`create`), so an edited lexicon takes effect on the
next restart without retraining.
"""

import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

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

from bot.nlu.risk_matcher import DEFAULT_LEXICON_PATH, RiskFinding, RiskMatcher

logger = logging.getLogger(__name__)

RISK_ENTITY = "risk"
LEXICON_PATH_KEY = "lexicon_path"


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False
)
class RiskPhraseDetector(GraphComponent, EntityExtractorMixin):
    """Adds a `risk` entity per risk category found by the lexicon-driven `RiskMatcher`."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """The component's default config (see parent class for full docstring)."""
        return {
            # Path of the risk lexicon. None: the lexicon shipped next to this module
            # (resolved from the package, not the working directory). A relative path is
            # resolved against the working directory Rasa runs in.
            LEXICON_PATH_KEY: None,
        }

    @staticmethod
    def required_packages() -> List[Text]:
        """Any extra python dependencies required for this component to run."""
        return ["spacy", "yaml"]

    def __init__(self, config: Dict[Text, Any], matcher: RiskMatcher) -> None:
        """Creates the component around an already compiled matcher."""
        self._config = config
        self._matcher = matcher
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
        path = cls.lexicon_path(config)
        matcher = RiskMatcher.from_path(path)
        logger.info(
            "RiskPhraseDetector: lexicon %s version %s, categories %s",
            path,
            matcher.version,
            ", ".join(matcher.categories),
        )
        return cls(config, matcher)

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

    def process(self, messages: List[Message]) -> List[Message]:
        """Appends one `risk` entity per category found in each message's text."""
        for message in messages:
            text = message.get(TEXT)
            if not text or not isinstance(text, str):
                continue
            findings = self._findings(message, text)
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

    def _findings(self, message: Message, text: Text) -> List[RiskFinding]:
        doc = message.get(SPACY_DOCS[TEXT])
        # SpacyNLP lower-cases the text by default (case_sensitive: False), so its doc is
        # usable only if its characters line up one-to-one with the original text.
        if doc is not None and len(doc.text) == len(text) and doc.text.lower() == text.lower():
            return self._matcher.find(doc)
        if doc is None and not self._warned_no_doc:
            self._warned_no_doc = True
            logger.warning(
                "RiskPhraseDetector: no spaCy doc on the message (is SpacyNLP before it in "
                "config.yml?); tokenizing with its own pipeline instead."
            )
        return self._matcher.find_text(text)

    @staticmethod
    def _entity(finding: RiskFinding) -> Dict[Text, Any]:
        return {
            ENTITY_ATTRIBUTE_TYPE: RISK_ENTITY,
            ENTITY_ATTRIBUTE_VALUE: finding.category,
            ENTITY_ATTRIBUTE_START: finding.start_char,
            ENTITY_ATTRIBUTE_END: finding.end_char,
            ENTITY_ATTRIBUTE_CONFIDENCE_TYPE: 1.0,  # "confidence_entity"
        }
