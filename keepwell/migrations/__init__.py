"""The app schema's migrations (Alembic, configured from code): the config, the head, and what an unversioned
database already is. `keepwell.db.upgrade` and `python -m keepwell db ...` are the ways in; there is no alembic.ini."""

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData, inspect

from keepwell.models import Base
from keepwell.models.search import is_search_table

SCRIPT_LOCATION = Path(__file__).parent
BASELINE = "0001"

# The tables and columns of v0.1 (revision 0001), the only schema released before Alembic: an unversioned database
# holding exactly these is a v0.1 installation, stamped at the baseline before it is upgraded.
V0_1_COLUMNS: dict[str, frozenset[str]] = {
    "customers": frozenset(
        "id name plan company_size lifecycle_stage mrr seats_purchased seats_used signup_date renewal_date".split()
    ),
    "usage_snapshots": frozenset(
        "id customer_id period_end logins active_users feature_adoption support_tickets nps csat".split()
    ),
    "conversations": frozenset("id customer_id created_at last_message_at".split()),
    "handoffs": frozenset(
        "id conversation_id customer_id reason status transcript created_at released_at released_by".split()
    ),
    "feedback": frozenset("id conversation_id customer_id text created_at".split()),
    "csm_users": frozenset("id username password_hash".split()),
}

# Tables other software keeps in the same database and migrations must never touch: Rasa's SQL tracker store, when
# it is pointed at the app database.
FOREIGN_TABLES = frozenset({"events"})


class SchemaUnrecognised(RuntimeError):
    """An unversioned database whose tables are neither v0.1's nor the current models': nothing is guessed."""


def config(connection: Connection | None = None) -> Config:
    """An Alembic config for keepwell/migrations; `connection` is the one env.py runs the migrations on."""
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPT_LOCATION))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    # A new revision file comes out linted and formatted like the rest of the code.
    cfg.set_section_option("post_write_hooks", "hooks", "ruff_fix, ruff_format")
    for hook, options in (("ruff_fix", "check --fix --quiet"), ("ruff_format", "format --quiet")):
        cfg.set_section_option("post_write_hooks", f"{hook}.type", "module")
        cfg.set_section_option("post_write_hooks", f"{hook}.module", "ruff")
        cfg.set_section_option("post_write_hooks", f"{hook}.options", f"{options} REVISION_SCRIPT_FILENAME")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(config())


def head() -> str:
    """The revision the code needs (the migrations keep a single head)."""
    revision = scripts().get_current_head()
    if revision is None:
        raise RuntimeError(f"no migrations in {SCRIPT_LOCATION / 'versions'}")
    return revision


def known(revision: str) -> bool:
    """Whether this code has a migration with this id (a database migrated by a newer Keepwell may not)."""
    try:
        return scripts().get_revision(revision) is not None
    except Exception:  # alembic raises its own errors for unknown or malformed ids
        return False


def current(connection: Connection) -> str | None:
    """The revision the database is at, or None when Alembic never ran on it."""
    return MigrationContext.configure(connection).get_current_revision()


def include_name(name: str | None, type_: str, _parents: dict[str, Any]) -> bool:
    """Autogenerate's filter: leave other software's tables alone, and SQLite's full-text index of the messages."""
    return not (type_ == "table" and (name in FOREIGN_TABLES or is_search_table(name)))


def differences(connection: Connection, metadata: MetaData) -> list[Any]:
    """What autogenerate would change to make the database match `metadata` (empty when they agree)."""
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True, "include_name": include_name}
    )
    return list(compare_metadata(context, metadata))


def unversioned_revision(connection: Connection) -> str | None:
    """For a database Alembic never ran on, the revision its tables already are.

    Returns:
        None for a database without Keepwell tables (migrate from nothing); `BASELINE` for a v0.1 installation
        (exactly v0.1's tables and columns, as `create_all` of the v0.1 models made them); the head for a database
        `create_all` of the current models made (development builds before migrations existed).

    Raises:
        SchemaUnrecognised: Keepwell tables exist but match neither.
    """
    inspector = inspect(connection)
    ours = set(Base.metadata.tables) | set(V0_1_COLUMNS)
    present = {name for name in inspector.get_table_names() if name in ours}
    if not present:
        return None
    if present == set(V0_1_COLUMNS) and all(
        {column["name"] for column in inspector.get_columns(name)} == columns for name, columns in V0_1_COLUMNS.items()
    ):
        return BASELINE
    if not differences(connection, Base.metadata):
        return head()
    raise SchemaUnrecognised(
        "the app database has Keepwell tables but no migration history, and they are neither the v0.1 schema nor "
        f"the current one (tables: {', '.join(sorted(present))}); nothing was changed. Restore a backup, or bring "
        "it to a known revision by hand and record that revision in its alembic_version table"
    )
