"""Write a file so that no reader ever sees half of it: write a temporary file beside it, fsync it,
then rename it over the target (``os.replace``, atomic on one file system).

Every output the package commits (score shards and merged outputs, errors files, manifests and
run metadata, the model registry's ``active`` pointer, predict-stance output) goes through
:func:`atomic_path`; :func:`write_atomic` is the short form for text or bytes in hand.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: str | Path, *, tmp_name: str | None = None) -> Iterator[Path]:
    """A temporary path beside ``path`` to write with anything (``open``, pyarrow, csv, gzip); when
    the block ends without an exception the file is fsynced and renamed over ``path``, and when it
    raises the temporary file is removed and ``path`` is left as it was.

    ``tmp_name``: the temporary file's name in ``path``'s folder (default ``NAME.tmp``); give one with
    the process id where several processes may write the same ``path`` at once.

    Example:
        >>> import pyarrow as pa, pyarrow.parquet as pq  # doctest: +SKIP
        >>> with atomic_path("out/part-00000.parquet") as tmp:  # doctest: +SKIP
        ...     pq.write_table(pa.table({"x": [1]}), tmp)
    """
    path = Path(path)
    name = path.name + ".tmp" if tmp_name is None else tmp_name
    if not name or Path(name).name != name or name in (".", "..", path.name):
        raise ValueError(f"tmp_name must be a file name (no folder) other than {path.name!r}, not {tmp_name!r}")
    tmp = path.with_name(name)
    try:
        yield tmp
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_atomic(path: str | Path, data: str | bytes, *, tmp_name: str | None = None) -> None:
    """Write ``data`` (text is written as UTF-8) to ``path`` through :func:`atomic_path`.

    Example:
        >>> import json, tempfile
        >>> target = Path(tempfile.mkdtemp()) / "manifest.json"
        >>> write_atomic(target, json.dumps({"shards": []}))
        >>> target.read_text()
        '{"shards": []}'
    """
    if not isinstance(data, (str, bytes)):
        raise ValueError(f"write_atomic writes str or bytes, not {type(data).__name__}")
    with atomic_path(path, tmp_name=tmp_name) as tmp:
        tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
