"""keepwell/migrations/versions/0003: a populated 0002 database keeps every customer, gains a subscription term per
customer and loses only superseded duplicate usage rows; the downgrade gives the 0002 schema back; on SQLite and on
PostgreSQL."""

from datetime import date
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import Engine, MetaData, Table, inspect, select, text

from keepwell import migrations
from keepwell.db import _migration_transaction, current_revision, make_engine, upgrade

BEFORE = "0002"
CUSTOMERS = [
    {
        "id": f"cus_{n}", "name": f"Customer {n} «ü»", "plan": plan, "company_size": "mid",
        "lifecycle_stage": "adoption", "mrr": mrr, "seats_purchased": 20, "seats_used": 17 + n,
        "signup_date": date(2024, 1, 15 + n), "renewal_date": date(2026, 1, 15 + n),
    }
    for n, (plan, mrr) in enumerate((("growth", 480.5), ("free", 0.0), ("enterprise", 8800.0)))
]  # fmt: skip
# Inserted in this order; the third repeats the first's account and period (a v0.2 re-import): it is the later one.
USAGE = [
    {"customer_id": "cus_0", "period_end": date(2026, 1, 28), "logins": 100, "nps": 9},
    {"customer_id": "cus_0", "period_end": date(2026, 2, 28), "logins": 110, "nps": None},
    {"customer_id": "cus_0", "period_end": date(2026, 1, 28), "logins": 120, "nps": 10},
    {"customer_id": "cus_2", "period_end": date(2026, 1, 28), "logins": 900, "nps": 6},
]


def _populate_0002(engine: Engine) -> None:
    upgrade(engine, BEFORE)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO customers (id, name, plan, company_size, lifecycle_stage, mrr, seats_purchased, "
                "seats_used, signup_date, renewal_date) VALUES (:id, :name, :plan, :company_size, :lifecycle_stage, "
                ":mrr, :seats_purchased, :seats_used, :signup_date, :renewal_date)"
            ),
            CUSTOMERS,
        )
        for row in USAGE:  # one statement each, so ids follow the list's order
            connection.execute(
                text(
                    "INSERT INTO usage_snapshots (customer_id, period_end, logins, active_users, feature_adoption, "
                    "support_tickets, nps, csat) VALUES (:customer_id, :period_end, :logins, 5, 0.5, 1, :nps, NULL)"
                ),
                row,
            )


def _rows(engine: Engine, table: str, *order: str) -> list[dict[str, Any]]:
    """Every row of a table, read through the reflected table so dates come back as dates on SQLite too."""
    reflected = Table(table, MetaData(), autoload_with=engine)
    with engine.connect() as connection:
        query = select(reflected).order_by(*(reflected.c[name] for name in order))
        return [dict(row._mapping) for row in connection.execute(query)]


def _schema(engine: Engine) -> dict[str, Any]:
    """Tables, their columns (name, type, nullability) and constraint and index names."""
    inspector = inspect(engine)
    return {
        table: (
            [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)],
            inspector.get_pk_constraint(table)["name"],
            sorted(fk["name"] for fk in inspector.get_foreign_keys(table)),
            sorted(uq["name"] for uq in inspector.get_unique_constraints(table)),
            sorted(ix["name"] for ix in inspector.get_indexes(table) if not ix.get("duplicates_constraint")),
        )
        for table in sorted(inspector.get_table_names())
        if table != "alembic_version"
    }


def _differences(engine: Engine) -> list[Any]:
    from keepwell.models import Base

    with engine.connect() as connection:
        return migrations.differences(connection, Base.metadata)


def test_customers_stay_and_each_gets_its_current_term(database: Engine) -> None:
    _populate_0002(database)
    customers_before = _rows(database, "customers", "id")

    upgrade(database)

    assert current_revision(database) == migrations.head()
    assert _differences(database) == []
    customers_after = _rows(database, "customers", "id")
    # Columns later migrations add (0004's segments) are not this migration's business.
    assert [{k: row[k] for k in customers_before[0]} for row in customers_after] == customers_before
    assert {row["owner_csm_id"] for row in customers_after} == {None}
    # 0011's add-ons are not this migration's business either.
    terms = [
        {k: v for k, v in row.items() if k not in ("id", "add_ons")}
        for row in _rows(database, "subscriptions", "account_id")
    ]
    assert terms == [
        {
            "external_id": f"migrated:{c['id']}", "account_id": c["id"], "plan": c["plan"], "mrr": c["mrr"],
            "seats_purchased": c["seats_purchased"], "seats_used": c["seats_used"], "started_on": c["signup_date"],
            "renews_on": c["renewal_date"], "ended_on": None, "status": "active", "billing_state": "current",
        }
        for c in CUSTOMERS
    ]  # fmt: skip


def test_usage_keeps_one_row_per_account_and_period_the_later_one(database: Engine) -> None:
    _populate_0002(database)
    upgrade(database)
    kept = ("customer_id", "period_end", "logins", "nps", "period_days", "features")
    usage = [{k: row[k] for k in kept} for row in _rows(database, "usage_snapshots", "customer_id", "period_end")]
    assert usage == [
        {"customer_id": "cus_0", "period_end": date(2026, 1, 28), "logins": 120, "nps": 10, "period_days": 30,
         "features": None},
        {"customer_id": "cus_0", "period_end": date(2026, 2, 28), "logins": 110, "nps": None, "period_days": 30,
         "features": None},
        {"customer_id": "cus_2", "period_end": date(2026, 1, 28), "logins": 900, "nps": 6, "period_days": 30,
         "features": None},
    ]  # fmt: skip


def test_the_new_tables_start_empty(database: Engine) -> None:
    _populate_0002(database)
    upgrade(database)
    for table in (
        "contacts", "support_tickets", "survey_answers", "onboarding_steps", "offer_events", "health_snapshots",
        "churn_signals", "csm_tasks",
    ):  # fmt: skip
        assert _rows(database, table) == [], table


def test_downgrade_gives_back_the_0002_schema_and_customers(database: Engine, tmp_path: Path) -> None:
    reference = make_engine(f"sqlite:///{tmp_path / 'reference.db'}")
    upgrade(reference, BEFORE)
    _populate_0002(database)
    customers_before = _rows(database, "customers", "id")
    upgrade(database)
    with database.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO survey_answers (external_id, account_id, kind, score, answered_at) "
                "VALUES ('a1', 'cus_0', 'nps', 9, CURRENT_TIMESTAMP)"
            )
        )

    with _migration_transaction(database) as connection:
        command.downgrade(migrations.config(connection), BEFORE)

    assert current_revision(database) == BEFORE
    if database.dialect.name == "sqlite":  # types are reported alike only on the same backend
        assert _schema(database) == _schema(reference)
    else:
        assert set(_schema(database)) == set(_schema(reference))
    assert _rows(database, "customers", "id") == customers_before
    assert len(_rows(database, "usage_snapshots")) == 3
    upgrade(database)
    assert _differences(database) == []
    reference.dispose()
