"""keepwell/migrations/versions/0013_feedback_polarity: feedback stored at 0012 is classified by its words (complaints
negative, ideas neutral, praise positive) and keeps its text; the downgrade drops the columns and keeps the rows;
SQLite and PostgreSQL."""

from alembic import command
from sqlalchemy import Engine, inspect, text

from keepwell import migrations
from keepwell.db import _migration_transaction, current_revision, upgrade

BEFORE = "0012_handoff_webhook"
SAID = {
    1: ("please add dark mode", "neutral"),
    2: ("notifications are way too noisy", "negative"),
    3: ("I love the new automations builder", "positive"),
}


def _populate_before(engine: Engine) -> None:
    upgrade(engine, BEFORE)
    with engine.begin() as connection:
        for row_id, (said, _polarity) in SAID.items():
            connection.execute(
                text(
                    "INSERT INTO feedback (id, conversation_id, customer_id, text, created_at) "
                    "VALUES (:id, 'conv_1', NULL, :text, CURRENT_TIMESTAMP)"
                ),
                {"id": row_id, "text": said},
            )


def _feedback(engine: Engine) -> list[dict]:
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(text("SELECT * FROM feedback ORDER BY id"))]


def test_existing_feedback_is_classified_by_its_words(database: Engine) -> None:
    _populate_before(database)
    upgrade(database)
    assert current_revision(database) == migrations.head()
    rows = _feedback(database)
    assert [(r["text"], r["polarity"], r["article_id"]) for r in rows] == [
        (said, polarity, None) for said, polarity in SAID.values()
    ]


def test_the_downgrade_drops_the_columns_and_keeps_the_rows(database: Engine) -> None:
    _populate_before(database)
    before = _feedback(database)
    upgrade(database)
    with _migration_transaction(database) as connection:
        command.downgrade(migrations.config(connection), BEFORE)
    assert current_revision(database) == BEFORE
    assert {"polarity", "article_id"}.isdisjoint(c["name"] for c in inspect(database).get_columns("feedback"))
    assert _feedback(database) == before
