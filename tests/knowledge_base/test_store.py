"""The index directory: round trip, refusal of other models, corruption and atomic replacement."""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from knowledge_base.documents import Chunk
from knowledge_base.index import ExactIndex, FaissIndex
from knowledge_base.store import (
    CHUNKS_FILE,
    MANIFEST_FILE,
    CorruptIndexError,
    IndexMismatchError,
    IndexNotFoundError,
    Manifest,
    StoreError,
    load_index,
    read_manifest,
    save_index,
)


def _chunks(count: int, prefix: str = "a") -> list[Chunk]:
    return [
        Chunk(f"{prefix}/x#{n}", f"{prefix}/x", "Title", f"Section {n}", f"/help/{prefix}/x", f"Text {n}")
        for n in range(count)
    ]


def _built(kind: type[ExactIndex] | type[FaissIndex], count: int = 4, model: str = "fake", seed: int = 0):
    vectors = np.random.default_rng(seed).normal(size=(count, 8)).astype(np.float32)
    index = kind(8)
    index.add(vectors / np.linalg.norm(vectors, axis=1, keepdims=True))
    manifest = Manifest(
        model=model,
        dimension=8,
        content_hash=f"hash-{seed}",
        chunk_count=count,
        article_count=1,
        built_at="2024-01-01T00:00:00+00:00",
        index_kind=kind.kind,
    )
    return manifest, index


@pytest.mark.parametrize("kind", [ExactIndex, FaissIndex])
def test_round_trip(tmp_path: Path, kind: type[ExactIndex]) -> None:
    manifest, index = _built(kind)
    chunks = _chunks(4)

    save_index(tmp_path / "kb", manifest, chunks, index)
    stored = load_index(tmp_path / "kb", model="fake", dimension=8)

    assert stored.manifest == manifest
    assert stored.chunks == chunks
    query = np.eye(8, dtype=np.float32)[:1]
    np.testing.assert_array_equal(stored.index.search(query, 4)[1], index.search(query, 4)[1])
    assert sorted(p.name for p in (tmp_path / "kb").iterdir()) == sorted([CHUNKS_FILE, MANIFEST_FILE, kind.file_name])
    assert json.loads((tmp_path / "kb" / MANIFEST_FILE).read_text())["format_version"] == 1


def test_faiss_index_is_stored_as_index_faiss(tmp_path: Path) -> None:
    manifest, index = _built(FaissIndex)
    save_index(tmp_path / "kb", manifest, _chunks(4), index)

    assert (tmp_path / "kb" / "index.faiss").is_file()


@pytest.mark.parametrize(
    ("model", "dimension"), [("another-model", 8), ("fake", 16)], ids=["other model", "other dimension"]
)
def test_an_index_built_with_another_model_is_refused(tmp_path: Path, model: str, dimension: int) -> None:
    manifest, index = _built(ExactIndex)
    save_index(tmp_path / "kb", manifest, _chunks(4), index)

    with pytest.raises(IndexMismatchError, match="was built with model 'fake' \\(8 dimensions\\)"):
        load_index(tmp_path / "kb", model=model, dimension=dimension)


def test_an_older_format_is_refused(tmp_path: Path) -> None:
    manifest, index = _built(ExactIndex)
    save_index(tmp_path / "kb", replace(manifest, format_version=0), _chunks(4), index)

    with pytest.raises(IndexMismatchError, match="format version 0"):
        load_index(tmp_path / "kb", model="fake", dimension=8)


def test_missing_index(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFoundError, match="no knowledge-base index"):
        load_index(tmp_path / "kb", model="fake", dimension=8)
    with pytest.raises(IndexNotFoundError):
        read_manifest(tmp_path / "kb")


@pytest.mark.parametrize(
    ("file_name", "content"),
    [
        (MANIFEST_FILE, "{not json"),
        (MANIFEST_FILE, '{"model": "fake"}'),
        (CHUNKS_FILE, "{not json"),
        (CHUNKS_FILE, '{"chunks": [{"id": "only-one"}]}'),
        (CHUNKS_FILE, '{"chunks": []}'),
        (ExactIndex.file_name, "garbage"),
    ],
)
def test_corrupt_files_are_reported(tmp_path: Path, file_name: str, content: str) -> None:
    manifest, index = _built(ExactIndex)
    save_index(tmp_path / "kb", manifest, _chunks(4), index)
    (tmp_path / "kb" / file_name).write_text(content)

    with pytest.raises(CorruptIndexError):
        load_index(tmp_path / "kb", model="fake", dimension=8)


def test_inconsistent_inputs_are_not_saved(tmp_path: Path) -> None:
    manifest, index = _built(ExactIndex)

    with pytest.raises(ValueError, match="inconsistent"):
        save_index(tmp_path / "kb", manifest, _chunks(3), index)
    assert not (tmp_path / "kb").exists()


def test_saving_replaces_the_previous_index(tmp_path: Path) -> None:
    old_manifest, old_index = _built(ExactIndex, count=4, seed=1)
    new_manifest, new_index = _built(ExactIndex, count=6, seed=2)
    save_index(tmp_path / "kb", old_manifest, _chunks(4, "old"), old_index)

    save_index(tmp_path / "kb", new_manifest, _chunks(6, "new"), new_index)
    stored = load_index(tmp_path / "kb", model="fake", dimension=8)

    assert stored.manifest.content_hash == "hash-2"
    assert [c.article_id for c in stored.chunks] == ["new/x"] * 6
    assert sorted(p.name for p in tmp_path.iterdir()) == [".kb.lock", "kb"]


def test_a_crash_while_writing_leaves_the_old_index_intact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old_manifest, old_index = _built(ExactIndex, count=4, seed=1)
    save_index(tmp_path / "kb", old_manifest, _chunks(4, "old"), old_index)
    new_manifest, new_index = _built(ExactIndex, count=6, seed=2)

    def crash_halfway(self: ExactIndex, path: Path) -> None:
        path.write_bytes(b"\x93NUMPY half a file")
        raise OSError("disk full")

    monkeypatch.setattr(ExactIndex, "save", crash_halfway)
    with pytest.raises(OSError, match="disk full"):
        save_index(tmp_path / "kb", new_manifest, _chunks(6, "new"), new_index)

    stored = load_index(tmp_path / "kb", model="fake", dimension=8)
    assert stored.manifest == old_manifest
    assert [c.article_id for c in stored.chunks] == ["old/x"] * 4
    assert sorted(p.name for p in tmp_path.iterdir()) == [".kb.lock", "kb"]  # the staging directory is gone


def test_a_crash_before_the_first_index_leaves_nothing_half_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest, index = _built(ExactIndex)
    monkeypatch.setattr(ExactIndex, "save", lambda self, path: (_ for _ in ()).throw(OSError("killed")))

    with pytest.raises(OSError, match="killed"):
        save_index(tmp_path / "kb", manifest, _chunks(4), index)

    assert not (tmp_path / "kb").exists()
    with pytest.raises(IndexNotFoundError):
        load_index(tmp_path / "kb", model="fake", dimension=8)


def test_a_folder_that_is_not_an_index_is_never_replaced(tmp_path: Path) -> None:
    (tmp_path / "kb").mkdir()
    (tmp_path / "kb" / "notes.txt").write_text("precious")
    manifest, index = _built(ExactIndex)

    with pytest.raises(StoreError, match=r"refusing to replace .*notes\.txt"):
        save_index(tmp_path / "kb", manifest, _chunks(4), index)

    assert (tmp_path / "kb" / "notes.txt").read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".kb.lock", "kb"]


def test_an_empty_folder_becomes_the_index(tmp_path: Path) -> None:
    (tmp_path / "kb").mkdir()
    manifest, index = _built(ExactIndex)

    save_index(tmp_path / "kb", manifest, _chunks(4), index)

    assert load_index(tmp_path / "kb", model="fake", dimension=8).manifest == manifest
