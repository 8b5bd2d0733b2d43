"""Encoding an index's rows incrementally: a row whose passage text and model are unchanged keeps its vector from the
stored index, so editing one article re-encodes only that article's rows."""

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from .documents import Chunk, passage_text
from .embedder import Embedder
from .store import CorruptIndexError, IndexMismatchError, IndexNotFoundError, load_index, read_manifest

# Passages are encoded in batches this size when someone watches progress, so it moves between them.
ENCODE_BATCH = 64

Progress = Callable[[int, int], None]


def row_key(model: str, row: Chunk) -> str:
    """What a row's vector depends on: the model and the embedded passage text."""
    return hashlib.sha256(f"{model}\0{passage_text(row)}".encode()).hexdigest()


def previous_vectors(index_dir: Path, embedder: Embedder) -> tuple[dict[str, np.ndarray], int]:
    """The stored index's vectors by `row_key`, and its generation; no vectors if it is missing or another model's."""
    try:
        stored = load_index(index_dir, embedder.name, embedder.dimension)
        vectors = stored.index.vectors()
    except (CorruptIndexError, IndexMismatchError, IndexNotFoundError):
        try:
            return {}, read_manifest(index_dir).generation
        except (CorruptIndexError, IndexNotFoundError):
            return {}, 0
    keys = [row_key(embedder.name, row) for row in stored.chunks]
    return dict(zip(keys, vectors, strict=True)), stored.manifest.generation


def encode_rows(
    embedder: Embedder,
    rows: Sequence[Chunk],
    previous: dict[str, np.ndarray],
    progress: bool = False,
    on_progress: Progress | None = None,
) -> tuple[np.ndarray, int]:
    """Vectors for `rows`, shape (len(rows), dimension), taken from `previous` where it has them; the rest encoded.

    Returns:
        The vectors and how many rows were encoded.
    """
    dimension = embedder.dimension
    vectors = np.zeros((len(rows), dimension), dtype=np.float32)
    missing = []
    for n, row in enumerate(rows):
        known = previous.get(row_key(embedder.name, row))
        if known is not None and known.shape == (dimension,):
            vectors[n] = known
        else:
            missing.append(n)
    if on_progress:
        on_progress(0, len(missing))
    # One call when nobody watches (the model batches internally and shows its own bar); batches otherwise.
    step = ENCODE_BATCH if on_progress else max(1, len(missing))
    for start in range(0, len(missing), step):
        batch = missing[start : start + step]
        encoded = embedder.encode_passages([passage_text(rows[n]) for n in batch], progress=progress)
        if encoded.shape != (len(batch), dimension):
            raise RuntimeError(f"embedder returned shape {encoded.shape}, expected {(len(batch), dimension)}")
        vectors[batch] = encoded
        if on_progress:
            on_progress(start + len(batch), len(missing))
    return vectors, len(missing)
