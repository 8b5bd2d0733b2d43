"""The MiniLM sentence encoder run from its ONNX export: numpy, onnxruntime and tokenizers only, no torch, no Rasa.

It reproduces sentence-transformers' all-MiniLM-L6-v2 pipeline (word pieces truncated to `max_seq_length`, BERT,
mean pooling over the attention mask, L2 normalisation), so its vectors match sentence-transformers' for the same
weights to float precision. The directory it reads is written by `python -m nlu.finetune` (the bot's tuned model) or
`python -m nlu.export` (any model as it is). This module must keep working on Python 3.10 with numpy 1.23 (the Rasa
environment) as well as on Python 3.11 with numpy 2.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import onnxruntime
    import tokenizers

MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
MANIFEST_FILE = "manifest.json"
# Bump when the export or the files' meaning changes: every existing export is then refused and redone.
FORMAT_VERSION = 1
# A small model gains nothing from more threads on short texts, and the Rasa server shares the machine.
_MAX_THREADS = 4


class EncoderError(Exception):
    """The encoder directory cannot be used as it is."""


class EncoderNotFoundError(EncoderError, FileNotFoundError):
    """No complete export in the directory."""


@dataclass(frozen=True)
class EncoderManifest:
    """What an encoder directory was exported from, and how; written last, so its presence means complete."""

    source_model: str
    source_path: str
    source_sha256: str
    dimension: int
    max_seq_length: int
    opset: int
    exporter: str
    exported_at: str
    model_sha256: str
    tokenizer_sha256: str
    parity_min_cosine: float | None = None
    pooling: str = "mean"
    normalized: bool = True
    # Set by `nlu.finetune`: what the model was tuned on and how (a fingerprint of it decides whether to redo it).
    fine_tuning: dict[str, Any] | None = None
    format_version: int = FORMAT_VERSION


@dataclass(frozen=True)
class TokenEncoding:
    """One text's embeddings: the sentence vector and the vectors of its word pieces.

    Attributes:
        sentence: (dimension,) unit-length sentence embedding, the same row `encode` returns for the text.
        vectors: (pieces, dimension) last hidden states of the word pieces, without [CLS], [SEP] and the pieces
            cut off by truncation.
        offsets: (pieces, 2) character spans `[start, end)` of each word piece in the text.
    """

    sentence: np.ndarray
    vectors: np.ndarray
    offsets: np.ndarray

    def span_vectors(self, spans: Sequence[tuple[int, int]]) -> np.ndarray:
        """One vector per character span: the mean of the word pieces that overlap it.

        This maps word pieces onto a tokenizer's tokens ("orbitly" = "orbit" + "##ly" becomes one vector), as
        Rasa's LanguageModelFeaturizer does, but by offsets rather than by re-tokenizing each token, so it holds
        however the two tokenizers split punctuation. A span no piece overlaps (cut off by truncation, or made of
        characters the tokenizer drops) gets a zero vector, as Rasa gives truncated tokens.

        Args:
            spans: `[start, end)` character offsets into the encoded text, e.g. Rasa tokens' `(start, end)`.

        Returns:
            float32 array of shape (len(spans), dimension).
        """
        dimension = self.sentence.shape[-1]
        if not len(spans):
            return np.zeros((0, dimension), dtype=np.float32)
        bounds = np.asarray(spans, dtype=np.int64).reshape(-1, 2)
        starts, ends = self.offsets[:, 0], self.offsets[:, 1]
        overlap = (starts[None, :] < bounds[:, 1:2]) & (ends[None, :] > bounds[:, 0:1])
        counts = overlap.sum(axis=1, keepdims=True)
        summed = overlap.astype(np.float32) @ self.vectors
        return (summed / np.maximum(counts, 1)).astype(np.float32)


def read_manifest(model_dir: Path) -> EncoderManifest:
    """The manifest of the export in `model_dir`.

    Raises:
        EncoderNotFoundError: no manifest there (nothing exported, or an export that did not finish).
        EncoderError: the manifest is unreadable or of another format version.
    """
    path = Path(model_dir) / MANIFEST_FILE
    if not path.is_file():
        raise EncoderNotFoundError(
            f"no exported sentence encoder in {model_dir}; create it with `make encoder` (the bot's tuned encoder) or "
            f"`python -m nlu.export --out {model_dir}` (the stock model)"
        )
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        known = {field.name for field in fields(EncoderManifest)}
        manifest = EncoderManifest(**{key: value for key, value in raw.items() if key in known})
    except (OSError, ValueError, TypeError, AttributeError) as error:
        raise EncoderError(f"{path} is unreadable: {error}") from error
    if manifest.format_version != FORMAT_VERSION:
        raise EncoderError(
            f"encoder in {model_dir} has format version {manifest.format_version}, expected {FORMAT_VERSION}; "
            "rebuild it with `make encoder`"
        )
    if manifest.pooling != "mean" or not manifest.normalized:
        raise EncoderError(
            f"encoder in {model_dir} uses {manifest.pooling} pooling (normalised: {manifest.normalized}); "
            "only normalised mean pooling is supported"
        )
    return manifest


class OnnxSentenceEncoder:
    """all-MiniLM-L6-v2 (or any BERT-like export with mean pooling) on onnxruntime, on the CPU.

    Nothing is read at construction; the model and tokenizer load on first use (or `load()`). Encoding is safe
    from several threads: the tokenizer is configured once while loading and only read afterwards, and an
    onnxruntime session may be run concurrently.

    Args:
        model_dir: a directory written by `nlu.finetune` or `nlu.export` (model.onnx, tokenizer.json, manifest.json).
        threads: onnxruntime intra-op threads; by default the usable cores, at most 4.
    """

    def __init__(self, model_dir: Path | str, threads: int | None = None) -> None:
        if threads is not None and threads < 1:
            raise ValueError("threads must be at least 1")
        self.model_dir = Path(model_dir)
        self.threads = threads or _default_threads()
        self._manifest: EncoderManifest | None = None
        self._session: onnxruntime.InferenceSession | None = None
        self._tokenizer: tokenizers.Tokenizer | None = None
        self._input_names: frozenset[str] = frozenset()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"OnnxSentenceEncoder({str(self.model_dir)!r})"

    @property
    def manifest(self) -> EncoderManifest:
        """The export's manifest (reads one small file)."""
        if self._manifest is None:
            self._manifest = read_manifest(self.model_dir)
        return self._manifest

    @property
    def dimension(self) -> int:
        """Length of every vector."""
        return self.manifest.dimension

    @property
    def max_seq_length(self) -> int:
        """Word pieces per text, [CLS] and [SEP] included; longer texts are truncated."""
        return self.manifest.max_seq_length

    def load(self) -> None:
        """Load the model and tokenizer now rather than on the first encode (a server does this at start-up).

        Raises:
            EncoderNotFoundError: the directory holds no complete export.
            EncoderError: the files are unreadable or disagree with the manifest.
        """
        if self._session is None:
            with self._lock:
                if self._session is None:
                    self._read_files()

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Embed texts.

        Returns:
            float32 array of shape (len(texts), dimension) with unit-length rows.
        """
        sentences = np.zeros((len(_checked(texts)), self.dimension), dtype=np.float32)
        for rows, hidden, mask, _ in self._forward(texts, batch_size):
            sentences[rows] = _mean_pool(hidden, mask)
        return sentences

    def encode_tokens(self, texts: Sequence[str], batch_size: int = 64) -> list[TokenEncoding]:
        """Embed texts and keep the word-piece vectors with their character offsets (for sequence features)."""
        results: list[TokenEncoding | None] = [None] * len(_checked(texts))
        for rows, hidden, mask, encodings in self._forward(texts, batch_size):
            pooled = _mean_pool(hidden, mask)
            for position, (row, encoding) in enumerate(zip(rows, encodings, strict=True)):
                keep = np.flatnonzero(
                    (np.asarray(encoding.special_tokens_mask) == 0) & (np.asarray(encoding.attention_mask) == 1)
                )
                results[row] = TokenEncoding(
                    sentence=pooled[position],
                    vectors=np.ascontiguousarray(hidden[position, keep]),
                    offsets=np.asarray(encoding.offsets, dtype=np.int64).reshape(-1, 2)[keep],
                )
        return [result for result in results if result is not None]

    def _forward(
        self, texts: Sequence[str], batch_size: int
    ) -> Iterator[tuple[list[int], np.ndarray, np.ndarray, list[Any]]]:
        """Run the model batch by batch: yields (row numbers, hidden states, attention mask, encodings)."""
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if not texts:
            return
        self.load()
        assert self._session is not None and self._tokenizer is not None
        encodings = self._tokenizer.encode_batch(list(texts), add_special_tokens=True)
        # Longest first, so each batch holds texts of similar length and little time goes into padding.
        order = sorted(range(len(encodings)), key=lambda row: -len(encodings[row].ids))
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            batch = [encodings[row] for row in rows]
            width = max(len(encoding.ids) for encoding in batch)
            inputs = {
                "input_ids": _padded([encoding.ids for encoding in batch], width),
                "attention_mask": _padded([encoding.attention_mask for encoding in batch], width),
                "token_type_ids": _padded([encoding.type_ids for encoding in batch], width),
            }
            feed = {name: value for name, value in inputs.items() if name in self._input_names}
            (hidden,) = self._session.run(["last_hidden_state"], feed)
            yield rows, np.asarray(hidden, dtype=np.float32), inputs["attention_mask"], batch

    def _read_files(self) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        manifest = self.manifest
        model_path, tokenizer_path = self.model_dir / MODEL_FILE, self.model_dir / TOKENIZER_FILE
        for path in (model_path, tokenizer_path):
            if not path.is_file():
                raise EncoderNotFoundError(f"{path} is missing; rebuild the encoder with `make encoder`")
        tokenizer = Tokenizer.from_file(str(tokenizer_path))
        # tokenizer.json ships with fixed padding to 128 and truncation at 128; sentence-transformers truncates at
        # max_seq_length and pads each batch to its longest text, which `_forward` does itself.
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=manifest.max_seq_length)

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle threads would otherwise spin for a while after each call, taking CPU from the rest of the server.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            session = onnxruntime.InferenceSession(
                str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as error:  # onnxruntime raises its own exception types for unreadable models
            raise EncoderError(f"{model_path} cannot be loaded: {error}") from error
        outputs = {output.name: output.shape for output in session.get_outputs()}
        if "last_hidden_state" not in outputs or outputs["last_hidden_state"][-1] != manifest.dimension:
            raise EncoderError(
                f"{model_path} does not output last_hidden_state of {manifest.dimension} dimensions: {outputs}"
            )
        self._tokenizer = tokenizer
        self._input_names = frozenset(model_input.name for model_input in session.get_inputs())
        self._session = session


def _checked(texts: Sequence[str]) -> Sequence[str]:
    # A bare string is a sequence too: encoding it character by character is never what the caller meant.
    if isinstance(texts, str):
        raise TypeError("texts must be a sequence of strings, not a string")
    return texts


def _padded(rows: list[list[int]], width: int) -> np.ndarray:
    array = np.zeros((len(rows), width), dtype=np.int64)
    for index, row in enumerate(rows):
        array[index, : len(row)] = row
    return array


def _mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """sentence-transformers' mean pooling then normalisation, with the same epsilons."""
    weights = mask.astype(np.float32)[:, :, None]
    summed = (hidden * weights).sum(axis=1)
    pooled = summed / np.maximum(weights.sum(axis=1), 1e-9)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)


def _default_threads() -> int:
    # sched_getaffinity honours CPU pinning (containers, taskset); cpu_count does not.
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(usable, _MAX_THREADS))
