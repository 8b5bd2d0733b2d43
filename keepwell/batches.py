"""Splitting work into batches: `batched`, as Python 3.12's itertools has it (this code runs on 3.11), and
`chunked` for long `IN (...)` lists, since SQLite and PostgreSQL both cap the parameters of one statement."""

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TypeVar

T = TypeVar("T")
IN_LIST = 500  # ids per IN (...): well under both databases' bound-parameter limits


def batched(items: Iterable[T], size: int) -> Iterator[tuple[T, ...]]:
    """Successive tuples of `size` items (the last may be shorter)."""
    iterator = iter(items)
    while batch := tuple(islice(iterator, size)):
        yield batch


def chunked(items: Iterable[T], size: int = IN_LIST) -> Iterator[tuple[T, ...]]:
    """Successive chunks of at most `size` items for one `IN (...)` each."""
    return batched(items, size)
