"""keepwell/migrations/versions/0004_scorecards: a populated 0003 database keeps its accounts and health snapshots,
which gain empty segments and trends; the downgrade gives the rows back as they were; SQLite and PostgreSQL."""

from datetime import date

from alembic import command
from sqlalchemy import Engine, inspect, text

from keepwell import migrations
from keepwell.db import _migration_transaction, current_revision, upgrade

BEFORE = "0003"


def _populate_0003(engine: Engine) -> None:
    upgrade(engine, BEFORE)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO customers (id, name, plan, company_size, lifecycle_stage, mrr, seats_purchased, "
                "seats_used, signup_date, renewal_date) VALUES ('cus_0', 'Zero «ü»', 'growth', 'mid', 'adoption', "
                "480, 20, 17, :signup, :renewal)"
            ),
            {"signup": date(2024, 1, 15), "renewal": date(2026, 1, 15)},
        )
        connection.execute(
            text(
                "INSERT INTO health_snapshots (account_id, as_of, scorecard, score, band, measures, drivers, "
                "computed_at) VALUES ('cus_0', :day, 'default', 64, 'yellow', '{}', '[]', CURRENT_TIMESTAMP)"
            ),
            {"day": date(2025, 6, 1)},
        )


def _rows(engine: Engine, table: str) -> list[dict]:
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(text(f"SELECT * FROM {table}"))]


def test_accounts_and_snapshots_stay_with_empty_segments_and_trends(database: Engine) -> None:
    _populate_0003(database)
    before = {"customers": _rows(database, "customers"), "health_snapshots": _rows(database, "health_snapshots")}

    upgrade(database)

    assert current_revision(database) == migrations.head()
    for table, rows in before.items():
        after = _rows(database, table)
        assert [{k: row[k] for k in rows[0]} for row in after] == rows
    [customer] = _rows(database, "customers")
    assert (customer["arr_band"], customer["touch_model"]) == (None, None)
    assert _rows(database, "health_snapshots")[0]["trend"] is None


def test_the_downgrade_drops_the_columns_and_keeps_the_rows(database: Engine) -> None:
    _populate_0003(database)
    before = _rows(database, "customers")
    upgrade(database)

    with _migration_transaction(database) as connection:
        command.downgrade(migrations.config(connection), BEFORE)

    assert current_revision(database) == BEFORE
    assert "arr_band" not in {c["name"] for c in inspect(database).get_columns("customers")}
    assert "trend" not in {c["name"] for c in inspect(database).get_columns("health_snapshots")}
    assert _rows(database, "customers") == before
