"""Vector indexes: exact maximum-inner-product search over unit vectors, so every score is a cosine similarity."""

from pathlib import Path
from types import ModuleType
from typing import ClassVar, Protocol, Self

import numpy as np


class VectorIndex(Protocol):
    """Row ids are positions in insertion order (0, 1, 2 ...); the store keeps the chunk for each position."""

    kind: ClassVar[str]
    file_name: ClassVar[str]

    @property
    def dimension(self) -> int:
        """Length of the stored vectors."""
        ...

    @property
    def size(self) -> int:
        """Number of stored vectors."""
        ...

    def add(self, vectors: np.ndarray) -> None:
        """Append vectors of shape (n, dimension)."""
        ...

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Best `k` rows per query as (scores, ids), each of shape (len(queries), min(k, size)), best first."""
        ...

    def save(self, path: Path) -> None:
        """Write the index to one file."""
        ...

    def vectors(self) -> np.ndarray:
        """A copy of the stored vectors, shape (size, dimension), in row order (reused by incremental builds)."""
        ...

    @classmethod
    def load(cls, path: Path) -> Self:
        """Read an index written by `save`."""
        ...


class ExactIndex:
    """Brute-force NumPy search: the reference implementation, and fast enough for tests and small corpora."""

    kind: ClassVar[str] = "exact"
    file_name: ClassVar[str] = "index.npy"

    def __init__(self, dimension: int) -> None:
        if dimension < 1:
            raise ValueError("dimension must be at least 1")
        self._vectors = np.zeros((0, dimension), dtype=np.float32)

    @property
    def dimension(self) -> int:
        return int(self._vectors.shape[1])

    @property
    def size(self) -> int:
        return int(self._vectors.shape[0])

    def add(self, vectors: np.ndarray) -> None:
        self._vectors = np.concatenate([self._vectors, _checked(vectors, self.dimension)], axis=0)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        queries = _checked(queries, self.dimension)
        k = _clipped_k(k, self.size)
        scores = queries @ self._vectors.T
        # A stable sort keeps equal scores in insertion order, so results are deterministic.
        ids = np.argsort(-scores, axis=1, kind="stable")[:, :k].astype(np.int64)
        return np.take_along_axis(scores, ids, axis=1).astype(np.float32), ids

    def vectors(self) -> np.ndarray:
        return self._vectors.copy()

    def save(self, path: Path) -> None:
        with open(path, "wb") as file:
            np.save(file, self._vectors, allow_pickle=False)

    @classmethod
    def load(cls, path: Path) -> Self:
        try:
            with open(path, "rb") as file:
                vectors = np.load(file, allow_pickle=False)
        except EOFError as error:  # a truncated file
            raise ValueError(f"{path}: truncated index file") from error
        if vectors.ndim != 2 or vectors.shape[1] < 1:
            raise ValueError(f"{path}: not an index of vectors (shape {vectors.shape})")
        index = cls(int(vectors.shape[1]))
        index._vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        return index


class FaissIndex:
    """FAISS `IndexFlatIP`: exact inner-product search, which is cosine similarity for unit vectors.

    A flat index is exact and needs no training; a help centre has thousands of chunks at most, where it answers in
    well under a millisecond. FAISS CPU indexes are safe to search from several threads at once.
    """

    kind: ClassVar[str] = "faiss"
    file_name: ClassVar[str] = "index.faiss"

    def __init__(self, dimension: int) -> None:
        if dimension < 1:
            raise ValueError("dimension must be at least 1")
        self._index = _faiss().IndexFlatIP(dimension)

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    def add(self, vectors: np.ndarray) -> None:
        self._index.add(_checked(vectors, self.dimension))

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        queries = _checked(queries, self.dimension)
        k = _clipped_k(k, self.size)
        if k == 0:
            return np.zeros((len(queries), 0), dtype=np.float32), np.zeros((len(queries), 0), dtype=np.int64)
        scores, ids = self._index.search(queries, k)
        return scores.astype(np.float32), ids.astype(np.int64)

    def vectors(self) -> np.ndarray:
        return np.asarray(self._index.reconstruct_n(0, self.size), dtype=np.float32).reshape(self.size, self.dimension)

    def save(self, path: Path) -> None:
        # Serialised through Python rather than faiss.write_index: plain file I/O, any path, clear OSErrors.
        Path(path).write_bytes(_faiss().serialize_index(self._index).tobytes())

    @classmethod
    def load(cls, path: Path) -> Self:
        faiss = _faiss()
        data = np.frombuffer(Path(path).read_bytes(), dtype=np.uint8)
        try:
            loaded = faiss.deserialize_index(data)
        except RuntimeError as error:
            raise ValueError(f"{path}: not a FAISS index ({error})") from error
        if not isinstance(loaded, faiss.IndexFlatIP):
            raise ValueError(f"{path}: expected a FAISS IndexFlatIP, found {type(loaded).__name__}")
        index = cls.__new__(cls)
        index._index = loaded
        return index


INDEX_TYPES: dict[str, type[ExactIndex] | type[FaissIndex]] = {ExactIndex.kind: ExactIndex, FaissIndex.kind: FaissIndex}


def index_type(kind: str) -> type[ExactIndex] | type[FaissIndex]:
    """The index class stored under `kind` in a manifest ("faiss" or "exact")."""
    try:
        return INDEX_TYPES[kind]
    except KeyError:
        raise ValueError(f"unknown index kind {kind!r}; known: {', '.join(sorted(INDEX_TYPES))}") from None


def _faiss() -> ModuleType:
    # Imported on first use: faiss is heavy, and tests that use ExactIndex never need it.
    import faiss

    return faiss


def _checked(vectors: np.ndarray, dimension: int) -> np.ndarray:
    array = np.asarray(vectors)
    if array.ndim != 2 or array.shape[1] != dimension:
        raise ValueError(f"expected vectors of shape (n, {dimension}), got {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError("vectors contain NaN or infinite values")
    return np.ascontiguousarray(array, dtype=np.float32)


def _clipped_k(k: int, size: int) -> int:
    if k < 1:
        raise ValueError("k must be at least 1")
    return min(k, size)
