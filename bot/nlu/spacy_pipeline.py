"""Builds the offline spaCy pipeline Rasa's `SpacyNLP` loads (`model: var/spacy/en_kratom_lookup`).

No model can be downloaded here (`spacy download` fails), so the pipeline is made from installed
packages only: `spacy.blank("en")` (tokenizer), plus the `lemmatizer` in `lookup` mode whose
table comes from `spacy-lookups-data` at build time and is saved inside the pipeline, so loading
it later needs neither the network nor `spacy-lookups-data`.

The pipeline has no vectors, no tagger and no parser. With Rasa that means: use `SpacyNLP` +
`SpacyTokenizer` (lemmas are filled in), but not `SpacyFeaturizer` (no vectors) nor `pos`
features in `LexicalSyntacticFeaturizer` (no tags).

Usage (idempotent; rebuilds only when the spaCy version or this recipe changed)::

    python -m bot.nlu.spacy_pipeline var/spacy/en_kratom_lookup [--force]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from importlib import metadata
from pathlib import Path
from typing import Any, Dict, List, Optional

import spacy
from spacy.language import Language
from spacy.util import compile_infix_regex

PIPELINE_NAME = "kratom_lookup"  # spaCy reports it as "en_kratom_lookup"
PIPELINE_VERSION = "1.0.0"
# Bump when build_nlp() changes in a way that changes tokens or lemmas.
RECIPE_VERSION = 1
RECIPE_META_KEY = "kratom_recipe"

# "kratom+xanax", "kratom&beer" are split like "kratom/beer" already is.
EXTRA_INFIXES = [r"(?<=[A-Za-z0-9])[+&](?=[A-Za-z0-9])"]


def _package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def recipe_fingerprint() -> Dict[str, Any]:
    """What a built pipeline must match to be reused as is."""
    return {
        "recipe_version": RECIPE_VERSION,
        "spacy": spacy.__version__,
        "spacy_lookups_data": _package_version("spacy-lookups-data"),
    }


def build_nlp() -> Language:
    """Returns the initialized in-memory pipeline: blank English + lookup lemmatizer."""
    nlp = spacy.blank("en")
    infixes = list(nlp.Defaults.infixes or []) + EXTRA_INFIXES
    nlp.tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    try:
        nlp.initialize()  # loads the "lemma_lookup" table from spacy-lookups-data
    except (ValueError, OSError) as error:  # spaCy raises ValueError E955 if tables are missing
        raise RuntimeError(
            "Could not initialize the lookup lemmatizer; is spacy-lookups-data installed "
            "in this environment?"
        ) from error
    nlp.meta["name"] = PIPELINE_NAME
    nlp.meta["version"] = PIPELINE_VERSION
    nlp.meta["description"] = (
        "Blank English tokenizer + lookup lemmatizer (spacy-lookups-data), built offline for "
        "the kratom assistant; no vectors, tagger or parser."
    )
    nlp.meta[RECIPE_META_KEY] = recipe_fingerprint()
    return nlp


def read_meta(path: Path) -> Optional[Dict[str, Any]]:
    meta_path = path / "meta.json"
    if not meta_path.is_file():
        return None
    try:
        return json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def is_current(path: Path) -> bool:
    """True if `path` holds a pipeline built by this recipe with the running spaCy."""
    meta = read_meta(path)
    if not meta or meta.get(RECIPE_META_KEY) != recipe_fingerprint():
        return False
    return (path / "config.cfg").is_file() and (path / "lemmatizer").is_dir()


def build(path: Path, force: bool = False) -> str:
    """Builds the pipeline into `path` unless an identical build is there. Returns a report line."""
    path = Path(path)
    if not force and is_current(path):
        return (
            f"up to date: {path} (spaCy {spacy.__version__}, recipe {RECIPE_VERSION}); "
            "nothing to do"
        )
    previous = read_meta(path)
    nlp = build_nlp()
    # Write next to the target, then swap, so a failed build never leaves half a pipeline.
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(path.name + ".building")
    if staging.exists():
        shutil.rmtree(staging)
    nlp.to_disk(staging)
    if path.exists():
        shutil.rmtree(path)
    staging.rename(path)
    if previous is None:
        why = "new build"
    elif force:
        why = "forced rebuild"
    else:
        why = f"rebuilt (found {previous.get(RECIPE_META_KEY) or 'a pipeline from another recipe'})"
    return (
        f"{why}: {path} (lang=en, pipes={nlp.pipe_names}, spaCy {spacy.__version__}, "
        f"spacy-lookups-data {_package_version('spacy-lookups-data')}, recipe {RECIPE_VERSION})"
    )


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", help="output directory, e.g. var/spacy/en_kratom_lookup")
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    args = parser.parse_args(argv)
    try:
        print(build(Path(args.path), force=args.force))
    except (RuntimeError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
