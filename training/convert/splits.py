"""Stable article-level splits: a hash of the article id, so the same article always lands in
the same split, whatever the order of the files."""

from __future__ import annotations

import hashlib

DEV_PERCENT = 10


def sha256_percent(key: str) -> int:
    """A stable number 0-99 for ``key`` (SHA-256).

    Example:
        >>> sha256_percent("111111111") == sha256_percent("111111111")
        True
    """
    return int(hashlib.sha256(key.encode()).hexdigest(), 16) % 100


def split_of(doc_id: str, dev_percent: int = DEV_PERCENT) -> str:
    """``"dev"`` for about ``dev_percent`` % of article ids (by SHA-1), ``"train"`` for the rest.

    Example:
        >>> split_of("https://example.com/news/1") in ("train", "dev")
        True
    """
    bucket = int.from_bytes(hashlib.sha1(doc_id.encode("utf-8")).digest()[:8], "big") % 100
    return "dev" if bucket < dev_percent else "train"
