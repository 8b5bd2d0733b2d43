"""A cache of customer messages' vectors (table `message_vectors`): the unanswered-questions page clusters the same
messages on every view, and encoding a few thousand of them on two CPU cores takes seconds, reading them back
milliseconds. A vector is kept with the model that made it; another model's vector counts as missing."""

from collections.abc import Sequence
from typing import Protocol

import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from keepwell.models import MessageVector
from keepwell.privacy._chunks import chunked


class Encoder(Protocol):
    """What clustering needs of an embedding model (knowledge_base's embedders fit): unit-length float32 rows."""

    @property
    def name(self) -> str: ...

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...


def vectors(session: Session, messages: Sequence[tuple[int, str]], encoder: Encoder) -> tuple[np.ndarray, int]:
    """The vectors of `messages` ((id, text) pairs), in their order: cached ones read, the rest encoded and stored.
    The caller commits. Returns the vectors (shape (len(messages), dimension)) and how many were encoded now."""
    model = encoder.name
    cached: dict[int, np.ndarray] = {}
    ids = [message_id for message_id, _ in messages]
    for chunk in chunked(sorted(set(ids))):
        for message_id, stored_model, blob in session.execute(
            select(MessageVector.message_id, MessageVector.model, MessageVector.vector).where(
                MessageVector.message_id.in_(chunk)
            )
        ):
            if stored_model == model:
                cached[message_id] = np.frombuffer(blob, dtype=np.float32)
    missing = [(message_id, text) for message_id, text in messages if message_id not in cached]
    if missing:
        encoded = np.asarray(encoder.encode_queries([text for _, text in missing]), dtype=np.float32)
        stale = [message_id for message_id, _ in missing]
        for chunk in chunked(sorted(set(stale))):  # another model's vectors for these messages
            session.execute(delete(MessageVector).where(MessageVector.message_id.in_(chunk)))
        for (message_id, _), vector in zip(missing, encoded, strict=True):
            if message_id not in cached:
                session.add(MessageVector(message_id=message_id, model=model, vector=vector.tobytes()))
            cached[message_id] = vector
        session.flush()
    if not messages:
        return np.zeros((0, 0), dtype=np.float32), 0
    dimension = {vector.shape[0] for vector in cached.values()}
    if len(dimension) != 1:
        raise ValueError(f"cached vectors of different lengths for model {model!r}: {sorted(dimension)}")
    return np.vstack([cached[message_id] for message_id in ids]).astype(np.float32), len(missing)
