"""Full-text search over the message log on SQLite: an FTS5 index of `messages.text` (an external-content table, so
the text is stored once) kept current by triggers. Created with the tables by `create_all` and by the migration
`0008_conversation_review`; PostgreSQL has no such table (the inbox searches it with ILIKE).

A migration that makes SQLite recreate `messages` (a batch operation that copies the table) drops these triggers:
run `SQLITE_FTS_DDL` again after it, and `REBUILD`."""

from sqlalchemy import DDL, event

from keepwell.models.conversations import Message

MESSAGES_FTS = "messages_fts"
SQLITE_FTS_DDL = (
    "CREATE VIRTUAL TABLE messages_fts USING fts5(text, content='messages', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN "
    "INSERT INTO messages_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN "
    "INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN "
    "INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO messages_fts(rowid, text) VALUES (new.id, new.text); END",
)
SQLITE_FTS_DROP = (
    "DROP TRIGGER IF EXISTS messages_fts_update",
    "DROP TRIGGER IF EXISTS messages_fts_delete",
    "DROP TRIGGER IF EXISTS messages_fts_insert",
    "DROP TABLE IF EXISTS messages_fts",
)
REBUILD = "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')"


def is_search_table(name: str | None) -> bool:
    """The FTS table and the shadow tables SQLite keeps for it: not in the models, left alone by autogenerate."""
    return bool(name) and (name == MESSAGES_FTS or str(name).startswith(MESSAGES_FTS + "_"))


for _statement in SQLITE_FTS_DDL:
    event.listen(Message.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
event.listen(Message.__table__, "before_drop", DDL("DROP TABLE IF EXISTS messages_fts").execute_if(dialect="sqlite"))
