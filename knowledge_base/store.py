"""A built index on disk: one directory holding the vector index, `chunks.json` and `manifest.json`.

Writes are atomic: everything goes to a temporary sibling directory that replaces the old one only once complete,
so a crash leaves either the old index or the new one (or, if it strikes between the two renames, none, which
simply means a rebuild), never a mixture. A lock file beside the directory keeps readers from catching a swap.
"""

import contextlib
import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from .documents import Chunk
from .index import INDEX_TYPES, VectorIndex, index_type

FORMAT_VERSION = 1
MANIFEST_FILE = "manifest.json"
CHUNKS_FILE = "chunks.json"
_INDEX_FILES = {MANIFEST_FILE, CHUNKS_FILE, *(kind.file_name for kind in INDEX_TYPES.values())}


class StoreError(Exception):
    """The stored index cannot be used as it is."""


class IndexNotFoundError(StoreError):
    """No index has been built in the directory."""


class CorruptIndexError(StoreError):
    """The index directory is unreadable or inconsistent."""


class IndexMismatchError(StoreError):
    """The index was built with another model, dimension or format than the one asked for."""


@dataclass(frozen=True)
class Manifest:
    """What an index was built from, and when."""

    model: str
    dimension: int
    content_hash: str
    chunk_count: int
    article_count: int
    built_at: str
    index_kind: str
    format_version: int = FORMAT_VERSION
    # Counts the builds written to this directory, so a running KnowledgeBase can tell a newer index on disk.
    generation: int = 0


@dataclass(frozen=True)
class StoredIndex:
    """A loaded index: row `i` of `index` is `chunks[i]`."""

    manifest: Manifest
    chunks: list[Chunk]
    index: VectorIndex


def save_index(directory: Path, manifest: Manifest, chunks: list[Chunk], index: VectorIndex) -> None:
    """Write the index to `directory` atomically, replacing any index already there.

    Raises:
        ValueError: the manifest disagrees with the chunks or the index.
    """
    if not (len(chunks) == index.size == manifest.chunk_count):
        raise ValueError(
            f"inconsistent index: {len(chunks)} chunks, {index.size} vectors, manifest says {manifest.chunk_count}"
        )
    if index.dimension != manifest.dimension or index.kind != manifest.index_kind:
        raise ValueError("manifest dimension or index kind does not match the index")
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = directory.with_name(f".{directory.name}.tmp-{uuid.uuid4().hex}")
    staging.mkdir()
    try:
        index.save(staging / index.file_name)
        _write_json(staging / CHUNKS_FILE, {"chunks": [asdict(chunk) for chunk in chunks]})
        # The manifest goes last: a directory with a manifest is complete.
        _write_json(staging / MANIFEST_FILE, asdict(manifest))
        for path in staging.iterdir():
            _fsync(path)
        _fsync(staging)
        with _locked(directory, exclusive=True):
            _swap_in(staging, directory)
        _fsync(directory.parent)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def read_manifest(directory: Path) -> Manifest:
    """The manifest of the index in `directory`, without loading the index.

    Raises:
        IndexNotFoundError: no index there.
        CorruptIndexError: the manifest is unreadable.
    """
    with _locked(Path(directory), exclusive=False):
        return _read_manifest(Path(directory))


def load_index(directory: Path, model: str, dimension: int) -> StoredIndex:
    """Load the index in `directory`, refusing one built with another model, dimension or format.

    Raises:
        IndexNotFoundError: no index there.
        IndexMismatchError: built with another model, dimension or format version; it must be rebuilt.
        CorruptIndexError: files missing, unreadable or inconsistent with the manifest.
    """
    directory = Path(directory)
    with _locked(directory, exclusive=False):
        manifest = _read_manifest(directory)
        if manifest.format_version != FORMAT_VERSION:
            raise IndexMismatchError(
                f"index in {directory} has format version {manifest.format_version}, expected {FORMAT_VERSION}; "
                "rebuild it with `python -m knowledge_base build`"
            )
        if manifest.model != model or manifest.dimension != dimension:
            raise IndexMismatchError(
                f"index in {directory} was built with model {manifest.model!r} ({manifest.dimension} dimensions), "
                f"not {model!r} ({dimension} dimensions); rebuild it with `python -m knowledge_base build --force`"
            )
        try:
            kind = index_type(manifest.index_kind)
            index = kind.load(directory / kind.file_name)
            raw_chunks = json.loads((directory / CHUNKS_FILE).read_text(encoding="utf-8"))["chunks"]
            chunks = [Chunk(**raw) for raw in raw_chunks]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise CorruptIndexError(f"index in {directory} is unreadable: {error}") from error
    if not (len(chunks) == index.size == manifest.chunk_count) or index.dimension != manifest.dimension:
        raise CorruptIndexError(
            f"index in {directory} is inconsistent: {len(chunks)} chunks, {index.size} vectors of "
            f"{index.dimension} dimensions, manifest says {manifest.chunk_count} of {manifest.dimension}"
        )
    return StoredIndex(manifest, chunks, index)


def _read_manifest(directory: Path) -> Manifest:
    path = directory / MANIFEST_FILE
    if not path.is_file():
        raise IndexNotFoundError(
            f"no knowledge-base index in {directory}; build it with `python -m knowledge_base build`"
        )
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        known = {field.name for field in fields(Manifest)}
        return Manifest(**{key: value for key, value in raw.items() if key in known})
    except (OSError, ValueError, TypeError, AttributeError) as error:
        raise CorruptIndexError(f"{path} is unreadable: {error}") from error


def _swap_in(staging: Path, directory: Path) -> None:
    """Move the finished staging directory to `directory`, moving any old index out of the way first."""
    retired = directory.with_name(f".{directory.name}.old-{uuid.uuid4().hex}")
    if directory.exists():
        # The old directory is deleted below: never do that to a folder that holds anything but an index.
        foreign = sorted(path.name for path in directory.iterdir() if path.name not in _INDEX_FILES)
        if foreign:
            raise StoreError(f"refusing to replace {directory}: it holds files that are not an index: {foreign}")
        os.rename(directory, retired)
    os.rename(staging, directory)
    shutil.rmtree(retired, ignore_errors=True)


@contextlib.contextmanager
def _locked(directory: Path, exclusive: bool) -> Iterator[None]:
    """Hold a lock file beside `directory`: writers swap exclusively, readers share.

    Where the lock file cannot be created (a read-only volume) nobody can be writing, so no lock is needed.
    """
    lock_path = directory.with_name(f".{directory.name}.lock")
    try:
        descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        yield
        return
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def _write_json(path: Path, payload: Any) -> None:
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def _fsync(path: Path) -> None:
    # Without fsync a power cut after the rename can still leave empty files behind the new name.
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
