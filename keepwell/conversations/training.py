"""Training examples from the console: a customer message the assistant misunderstood, stored with the intent a CSM
says it meant, and exported as Rasa NLU data (`version: "3.1"`) for the next training. `make train` reads the file
`write_nlu_file` keeps in the data folder (`<KEEPWELL_DATA_DIR>/bot/nlu/console_examples.yml`)."""

import logging
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from keepwell.conversations.records import ROLE_CUSTOMER
from keepwell.models import Message, TrainingExample, as_utc

logger = logging.getLogger(__name__)

DOMAIN_PATH = Path(__file__).resolve().parents[2] / "domain.yml"
NLU_FILE = Path("bot") / "nlu" / "console_examples.yml"
MAX_EXAMPLE_CHARS = 500


class ExampleError(ValueError):
    """A message that cannot become a training example; the message says why."""


@dataclass(frozen=True)
class ExampleView:
    id: int
    text: str
    intent: str
    predicted_intent: str | None
    conversation_id: str | None
    message_id: int | None
    created_by: str
    created_at: datetime


@cache
def domain_intents(path: Path = DOMAIN_PATH) -> tuple[str, ...]:
    """The intents the assistant knows (domain.yml), in the file's order."""
    domain = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return tuple(str(next(iter(i))) if isinstance(i, dict) else str(i) for i in domain.get("intents") or [])


def add(
    session: Session,
    message_id: int,
    intent: str,
    by: str,
    *,
    conversation_id: str | None = None,
    intents: tuple[str, ...] | None = None,
) -> ExampleView:
    """Store the customer message `message_id` as an example of `intent` (again under the same intent: no change).

    Raises:
        ExampleError: not a customer message (of `conversation_id`, when given), an intent the domain does not
            have, a text too long for an example, or the same text already an example of another intent.
    """
    known = intents if intents is not None else domain_intents()
    if intent not in known:
        raise ExampleError(f"Unknown intent {intent!r}: choose one of the assistant's intents.")
    message = session.get(Message, message_id)
    if message is None or message.role != ROLE_CUSTOMER or conversation_id not in (None, message.conversation_id):
        raise ExampleError("Only a customer's message can become a training example.")
    text = " ".join(message.text.split())
    if not text or len(text) > MAX_EXAMPLE_CHARS:
        raise ExampleError(f"A training example is 1 to {MAX_EXAMPLE_CHARS} characters; this message is not.")
    existing = session.scalars(select(TrainingExample).where(TrainingExample.text == text)).first()
    if existing is not None:
        if existing.intent != intent:
            raise ExampleError(f"This text is already an example of {existing.intent}; one text, one intent.")
        return _view(existing)
    example = TrainingExample(
        text=text,
        intent=intent,
        conversation_id=message.conversation_id,
        message_id=message.id,
        predicted_intent=message.intent,
        created_by=by,
    )
    session.add(example)
    session.flush()
    return _view(example)


def for_conversation(session: Session, conversation_id: str) -> dict[int, ExampleView]:
    """The examples taken from this conversation, by message id."""
    query = select(TrainingExample).where(TrainingExample.conversation_id == conversation_id)
    return {e.message_id: _view(e) for e in session.scalars(query) if e.message_id is not None}


def nlu_yaml(session: Session) -> str:
    """Every example as Rasa NLU training data, intents and examples in a stable order."""
    by_intent: dict[str, list[str]] = {}
    for intent, text in session.execute(
        select(TrainingExample.intent, TrainingExample.text).order_by(TrainingExample.intent, TrainingExample.id)
    ):
        by_intent.setdefault(intent, []).append(text)
    lines = ['version: "3.1"', "nlu:"]
    for intent, texts in by_intent.items():
        lines += [f"- intent: {intent}", "  examples: |"]
        lines += [f"    - {_literal(text)}" for text in texts]
    if not by_intent:
        lines[-1] = "nlu: []"
    return "\n".join(lines) + "\n"


def write_nlu_file(session: Session, data_dir: Path) -> Path:
    """Write every example to `<data_dir>/bot/nlu/console_examples.yml` (atomically: a training that reads it
    meanwhile sees the old file or the new one, never half of one)."""
    path = data_dir / NLU_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_suffix(".yml.tmp")
    scratch.write_text(nlu_yaml(session), encoding="utf-8")
    scratch.replace(path)
    return path


def rewrite_nlu_file(session: Session, data_dir: Path) -> bool:
    """`write_nlu_file` after the examples changed; False, logged, when the disk refuses. The database stays the
    record: the download and the next change rewrite the file whole."""
    try:
        write_nlu_file(session, data_dir)
    except OSError:
        logger.exception("could not write the console's training examples to %s", data_dir)
        return False
    return True


def _literal(text: str) -> str:
    # One line in a block scalar; brackets and parentheses would read as Rasa's entity markup, so they are spaced
    # out of it: "[x](y)" never reaches the file as an annotation.
    return text.replace("](", "] (")


def _view(example: TrainingExample) -> ExampleView:
    return ExampleView(
        id=example.id,
        text=example.text,
        intent=example.intent,
        predicted_intent=example.predicted_intent,
        conversation_id=example.conversation_id,
        message_id=example.message_id,
        created_by=example.created_by,
        created_at=as_utc(example.created_at),
    )
