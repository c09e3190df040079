"""NLU helpers and the custom Rasa component of the kratom assistant.

- `spacy_pipeline`: builds the offline spaCy pipeline that Rasa's `SpacyNLP` loads.
- `risk_matcher`: pure spaCy risk-phrase matcher driven by `risk_lexicon.yml`.
- `risk_detector`: the Rasa component (`RiskPhraseDetector`) wrapping the matcher.
"""
