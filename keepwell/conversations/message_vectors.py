"""A cache of customer messages' vectors (table `message_vectors`): the unanswered-questions page clusters the same
messages on every view, and encoding a few thousand of them on two CPU cores takes seconds, reading them back
milliseconds. A vector is kept with the model that made it; another model's vector counts as missing."""

from collections.abc import Sequence
from typing import Protocol

import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from keepwell.batches import chunked
from keepwell.models import MessageVector


class Encoder(Protocol):
    """What clustering needs of an embedding model (knowledge_base's embedders fit): unit-length float32 rows."""

    @property
    def name(self) -> str: ...

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...


def vectors(
    session: Session, messages: Sequence[tuple[int, str]], encoder: Encoder, limit: int | None = None
) -> tuple[dict[int, np.ndarray], int]:
    """The vectors of `messages` ((id, text) pairs) by message id: cached ones read, missing ones encoded and stored,
    at most `limit` of them (the first missing in the given order; the rest are left out until a later call).
    The caller commits. Returns the vectors and how many were encoded now."""
    model = encoder.name
    found: dict[int, np.ndarray] = {}
    for chunk in chunked(sorted({message_id for message_id, _ in messages})):
        for message_id, stored_model, blob in session.execute(
            select(MessageVector.message_id, MessageVector.model, MessageVector.vector).where(
                MessageVector.message_id.in_(chunk)
            )
        ):
            if stored_model == model:
                found[message_id] = np.frombuffer(blob, dtype=np.float32)
    missing = list({message_id: text for message_id, text in messages if message_id not in found}.items())
    missing = missing if limit is None else missing[:limit]
    if missing:
        encoded = np.asarray(encoder.encode_queries([text for _, text in missing]), dtype=np.float32)
        for chunk in chunked(sorted(message_id for message_id, _ in missing)):  # another model's vectors
            session.execute(delete(MessageVector).where(MessageVector.message_id.in_(chunk)))
        for (message_id, _), vector in zip(missing, encoded, strict=True):
            session.add(MessageVector(message_id=message_id, model=model, vector=vector.tobytes()))
            found[message_id] = vector
        session.flush()
    if len({vector.shape for vector in found.values()}) > 1:
        raise ValueError(f"cached vectors of different lengths for model {model!r}")
    return found, len(missing)
