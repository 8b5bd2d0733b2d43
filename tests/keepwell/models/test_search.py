"""keepwell/models/search.py: SQLite's full-text index of the messages is the same whether `create_all` or the
migrations made it, and its triggers follow every insert, edit and deletion (erasure included)."""

from pathlib import Path

from sqlalchemy import Engine, create_engine, delete, text, update

from keepwell.db import make_engine, session_factory, upgrade
from keepwell.models import Base, Conversation, Message

_FTS_OBJECTS = "SELECT type, name, sql FROM sqlite_master WHERE name LIKE 'messages_fts%' ORDER BY name"


def _objects(engine: Engine) -> list[tuple[str, str, str]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(_FTS_OBJECTS))]  # type: ignore[misc]


def _found(engine: Engine, word: str) -> list[int]:
    with engine.connect() as connection:
        query = text("SELECT rowid FROM messages_fts WHERE messages_fts MATCH :q ORDER BY rowid")
        return list(connection.scalars(query, {"q": word}))


def test_create_all_and_the_migrations_make_the_same_index(tmp_path: Path) -> None:
    migrated = make_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
    upgrade(migrated)
    models = create_engine(f"sqlite:///{tmp_path / 'models.db'}")
    Base.metadata.create_all(models)
    assert [kind for kind, name, _ in _objects(migrated) if name.startswith("messages_fts_")].count("trigger") == 3
    assert _objects(migrated) == _objects(models)
    migrated.dispose()
    models.dispose()


def test_the_index_follows_inserts_edits_and_deletions(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'keepwell.db'}")
    upgrade(engine)
    with session_factory(engine)() as session:
        session.add(Conversation(id="conv", channel="website"))
        session.add_all([
            Message(id=1, conversation_id="conv", role="customer", text="Café invoices please", state="answered"),
            Message(id=2, conversation_id="conv", role="bot", text="Here are your invoices", state="sent"),
        ])  # fmt: skip
        session.commit()
        assert _found(engine, "invoices") == [1, 2]
        assert _found(engine, "cafe") == [1]  # diacritics folded
        session.execute(update(Message).where(Message.id == 2).values(text="[redacted]"))
        session.commit()
        assert _found(engine, "invoices") == [1] and _found(engine, "redacted") == [2]
        session.execute(delete(Conversation).where(Conversation.id == "conv"))  # cascades to the messages
        session.commit()
    assert _found(engine, "invoices") == [] and _found(engine, "redacted") == []
    engine.dispose()
