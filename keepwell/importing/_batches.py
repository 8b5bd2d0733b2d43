"""`batched`, as Python 3.12's itertools has it (this code runs on 3.11)."""

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TypeVar

T = TypeVar("T")


def batched(items: Iterable[T], size: int) -> Iterator[tuple[T, ...]]:
    """Successive tuples of `size` items (the last may be shorter)."""
    iterator = iter(items)
    while batch := tuple(islice(iterator, size)):
        yield batch
