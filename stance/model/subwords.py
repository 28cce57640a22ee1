"""The model's subword tokenizer as inference uses it: token ids with character offsets, and the
ids of the special tokens.

It is the Rust tokenizer of the `tokenizers` library, which transformers' fast tokenizers wrap,
read straight from the model's ``tokenizer.json``: loading it takes 0.06 s and needs neither
transformers nor torch (importing transformers' ``AutoTokenizer`` imports torch, 3-4 s per
scoring worker). A transformers tokenizer (training, a model built in memory) converts with
:meth:`SubwordTokenizer.of`, and gives the same ids and offsets.

Example:
    >>> tok = SubwordTokenizer.from_directory(resolve_model("default"))  # doctest: +SKIP
    >>> tok.encode(["Beijing hailed it."])[0][0][:2]  # doctest: +SKIP
    [7211, 24981]
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SPECIAL = ("cls_token", "sep_token", "pad_token", "unk_token")


@dataclass(frozen=True)
class SubwordTokenizer:
    """A ``tokenizers.Tokenizer`` and the ids of its special tokens."""

    backend: Any  # tokenizers.Tokenizer
    cls_token_id: int
    sep_token_id: int
    pad_token_id: int
    unk_token_id: int

    @classmethod
    def from_directory(cls, path: str | Path) -> SubwordTokenizer:
        """Read ``tokenizer.json`` and the special tokens named in ``tokenizer_config.json`` (or
        ``special_tokens_map.json``) of a saved model; ValueError where they are missing."""
        from tokenizers import Tokenizer

        path = Path(path)
        if not (path / "tokenizer.json").is_file():
            raise ValueError(f"{path} has no tokenizer.json (a fast tokenizer is needed for character offsets)")
        names: dict[str, Any] = {}
        for file in ("special_tokens_map.json", "tokenizer_config.json"):
            if (path / file).is_file():
                names |= {k: v for k, v in json.loads((path / file).read_text(encoding="utf-8")).items() if k in SPECIAL}
        backend = _without_truncation_or_padding(Tokenizer.from_file(str(path / "tokenizer.json")))
        ids = {}
        for key in SPECIAL:
            token = names.get(key)
            token = token.get("content") if isinstance(token, dict) else token
            token_id = backend.token_to_id(token) if isinstance(token, str) else None
            if token_id is None:
                raise ValueError(f"{path}: the tokenizer's {key} is not named or not in its vocabulary")
            ids[f"{key}_id"] = token_id
        return cls(backend, **ids)

    @classmethod
    def of(cls, tokenizer: Any) -> SubwordTokenizer:
        """The same tokenizer from a transformers (fast) tokenizer; a SubwordTokenizer is returned as it is."""
        if isinstance(tokenizer, SubwordTokenizer):
            return tokenizer
        backend = getattr(tokenizer, "backend_tokenizer", None)
        if backend is None:
            raise ValueError(f"{type(tokenizer).__name__} is not a fast tokenizer; character offsets need one")
        ids = {f"{key}_id": getattr(tokenizer, f"{key}_id") for key in SPECIAL}
        if any(v is None for v in ids.values()):
            raise ValueError(f"the tokenizer lacks a special token: {ids}")
        if backend.truncation or backend.padding:  # left set by an earlier call through transformers: a copy without them
            from tokenizers import Tokenizer

            backend = _without_truncation_or_padding(Tokenizer.from_str(backend.to_str()))
        return cls(backend, **ids)

    def token_id(self, token: str) -> int:
        """The id of ``token``, or the unknown token's id."""
        token_id = self.backend.token_to_id(token)
        return self.unk_token_id if token_id is None else token_id

    def encode(self, texts: list[str]) -> list[tuple[list[int], list[tuple[int, int]]]]:
        """(ids, character offsets) of each text, without special tokens, untruncated."""
        return [(e.ids, e.offsets) for e in self.backend.encode_batch(texts, add_special_tokens=False)]


def _without_truncation_or_padding(backend: Any) -> Any:
    """``backend`` with the truncation and padding a saved tokenizer.json may carry turned off
    (inference marks targets and truncates itself)."""
    backend.no_truncation()
    backend.no_padding()
    return backend
