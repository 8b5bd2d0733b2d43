"""keepwell/migrations and keepwell.db.upgrade: the models and the head agree, v0.1 data survives the upgrade,
upgrades are idempotent and safe to run twice at once; on SQLite and on a real PostgreSQL."""

import re
import shutil
import subprocess
import sys
import threading
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, Table, create_engine, func, inspect, select, text

from keepwell import migrations, staff
from keepwell.cli import main as cli
from keepwell.db import (
    SchemaOutdated,
    _migration_transaction,
    check_current,
    current_revision,
    make_engine,
    session_scope,
    upgrade,
)
from keepwell.models import Base, Customer, UsageSnapshot
from keepwell.models.search import is_search_table
from keepwell.settings import get_core_settings
from tests.keepwell import schema_v0_1 as v0_1

HEAD = migrations.head()
OLD_PASSWORD = "the v0.1 console password"
T0 = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)


def _twin(engine: Engine) -> Engine:
    """Another engine (its own pool and connections) on the same database, as a second process would have."""
    return make_engine(engine.url.render_as_string(hide_password=False))


@cache
def _old_hash() -> str:
    """An Argon2 hash of OLD_PASSWORD made as v0.1 made them (argon2-cffi's defaults); once, it takes a while."""
    return PasswordHasher().hash(OLD_PASSWORD)


def _v0_1_rows() -> dict[Table, list[dict[str, Any]]]:
    """A little of everything a v0.1 installation stores."""
    return {
        v0_1.customers: [
            {
                "id": f"cus_{n}", "name": f"Customer {n} GmbH & Co. «ü»", "plan": plan, "company_size": "mid",
                "lifecycle_stage": "adoption", "mrr": 480.5 + n, "seats_purchased": 20, "seats_used": 17 + n,
                "signup_date": date(2024, 1, 15 + n), "renewal_date": date(2026, 1, 15 + n),
            }
            for n, plan in enumerate(("growth", "starter", "enterprise"))
        ],
        v0_1.usage_snapshots: [
            {
                "id": 10 + n, "customer_id": f"cus_{n % 3}", "period_end": date(2026, 1 + n % 2, 28), "logins": 400 - n,
                "active_users": 12, "feature_adoption": 0.625, "support_tickets": n,
                "nps": None if n == 4 else 9, "csat": None if n == 5 else 4.5,
            }
            for n in range(6)
        ],
        v0_1.conversations: [
            {"id": "conv-anonymous", "customer_id": None, "created_at": T0,
             "last_message_at": T0 + timedelta(minutes=3)},
            {"id": "conv-signed-in", "customer_id": "cus_1", "created_at": T0, "last_message_at": T0},
        ],
        v0_1.handoffs: [
            {
                "id": 1, "conversation_id": "conv-signed-in", "customer_id": "cus_1", "reason": "billing question",
                "status": "released", "created_at": T0, "released_at": T0 + timedelta(hours=1),
                "released_by": "csm@demo.test",
                "transcript": [
                    {"role": "customer", "text": "Why was I charged twice? 💸", "at": "2026-03-01T09:30:15Z"},
                    {"role": "bot", "text": "Let me get a person.", "buttons": [{"title": "OK", "payload": "/ok"}]},
                ],
            },
            {
                "id": 2, "conversation_id": "conv-anonymous", "customer_id": None, "reason": "wants a human",
                "status": "open", "transcript": [], "created_at": T0, "released_at": None, "released_by": None,
            },
        ],
        v0_1.feedback: [
            {"id": 1, "conversation_id": "conv-signed-in", "customer_id": "cus_1", "text": "dark mode please",
             "created_at": T0},
        ],
        v0_1.csm_users: [
            {"id": 1, "username": "csm@demo.test", "password_hash": _old_hash()},
            {"id": 2, "username": "Ops.Lead@Example.com", "password_hash": _old_hash()},
        ],
    }  # fmt: skip


def _make_v0_1(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """A v0.1 installation with data in every table (no migration history), and its rows as read back."""
    v0_1.metadata.create_all(engine)
    with engine.begin() as connection:
        for table, rows in _v0_1_rows().items():
            connection.execute(table.insert(), rows)
        if engine.dialect.name == "postgresql":  # explicit ids leave the sequences behind; v0.1 never set ids
            for table in (v0_1.usage_snapshots, v0_1.handoffs, v0_1.feedback, v0_1.csm_users):
                sequence = f"pg_get_serial_sequence('{table.name}', 'id')"
                connection.execute(text(f"SELECT setval({sequence}, (SELECT max(id) FROM {table.name}))"))
    return _read_v0_1(engine)


def _read_v0_1(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Every row of the v0.1 tables, v0.1 columns only, in primary-key order."""
    with engine.connect() as connection:
        return {
            table.name: [
                dict(row._mapping) for row in connection.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in v0_1.metadata.sorted_tables
        }


def _constraint_names(engine: Engine) -> dict[str, tuple[Any, ...]]:
    """Each table's primary key, foreign key, unique constraint, index and check names, as the database reports them."""
    inspector = inspect(engine)
    return {
        table: (
            inspector.get_pk_constraint(table)["name"],
            sorted(fk["name"] for fk in inspector.get_foreign_keys(table)),
            sorted(uq["name"] for uq in inspector.get_unique_constraints(table)),
            sorted(ix["name"] for ix in inspector.get_indexes(table) if not ix.get("duplicates_constraint")),
            sorted(ck["name"] for ck in inspector.get_check_constraints(table)),
        )
        for table in inspector.get_table_names()
        if table != "alembic_version" and not is_search_table(table)  # SQLite's full-text index: SQLite only
    }


def _differences(engine: Engine, metadata: Any = Base.metadata) -> list[Any]:
    with engine.connect() as connection:
        return migrations.differences(connection, metadata)


def _version_rows(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.scalars(text("SELECT version_num FROM alembic_version")))


def test_the_migration_head_matches_the_models(database: Engine) -> None:
    """A model change without a migration fails here: `python -m keepwell db revision -m ...` writes one."""
    upgrade(database)
    assert current_revision(database) == HEAD
    assert _differences(database) == []


def test_every_constraint_gets_the_name_the_models_give_it(database: Engine, tmp_path: Path) -> None:
    models = create_engine(f"sqlite:///{tmp_path / 'models.db'}")
    Base.metadata.create_all(models)
    upgrade(database)
    assert _constraint_names(database) == _constraint_names(models)
    models.dispose()


def test_the_baseline_is_the_v0_1_schema(database: Engine) -> None:
    upgrade(database, migrations.BASELINE)
    assert _differences(database, v0_1.metadata) == []


def test_an_upgrade_from_v0_1_keeps_every_row(database: Engine, tmp_path: Path) -> None:
    before = _make_v0_1(database)
    assert current_revision(database) is None

    upgrade(database)

    assert _version_rows(database) == [HEAD]
    assert _differences(database) == []
    models = create_engine(f"sqlite:///{tmp_path / 'models.db'}")
    Base.metadata.create_all(models)
    assert _constraint_names(database) == _constraint_names(models)
    models.dispose()
    # Every row survived unchanged, save the one username that sign-in now needs normalised.
    expected = {name: [dict(row) for row in rows] for name, rows in before.items()}
    expected["csm_users"][1]["username"] = "ops.lead@example.com"
    assert _read_v0_1(database) == expected
    assert len(expected["usage_snapshots"]) == 6 and len(expected["handoffs"]) == 2


def test_after_the_upgrade_new_columns_have_their_defaults_and_old_logins_work(database: Engine) -> None:
    _make_v0_1(database)
    started = datetime.now(UTC).replace(microsecond=0)
    upgrade(database)

    with database.connect() as connection:
        conversations = connection.execute(text("SELECT channel, rasa_event_cursor FROM conversations")).all()
        accounts = connection.execute(
            text("SELECT display_name, role, active, last_login_at, sessions_valid_after FROM csm_users ORDER BY id")
        ).all()
    assert [tuple(row) for row in conversations] == [("website", 0)] * 2
    assert [tuple(row) for row in accounts] == [("", "admin", True, None, None)] * 2

    with session_scope(database) as session:
        for email in ("csm@demo.test", "OPS.lead@example.com"):
            signed_in = staff.authenticate(session, email, OLD_PASSWORD)
            assert signed_in.staff is not None, (email, signed_in.failure)
            assert signed_in.staff.is_admin and signed_in.staff.active
            assert signed_in.staff.label == signed_in.staff.username
            created = signed_in.staff.created_at.replace(tzinfo=signed_in.staff.created_at.tzinfo or UTC)
            assert started - timedelta(seconds=5) <= created <= datetime.now(UTC) + timedelta(seconds=5)
        assert not staff.authenticate(session, "csm@demo.test", "a wrong password").ok
    # New rows get new ids: the sequences and autoincrement survived the copies and renames.
    with session_scope(database) as session:
        created_view = staff.create(session, "new.csm@example.com", "a-long-enough-password")
        assert created_view.id == 3 and created_view.role == "csm"
        session.add(UsageSnapshot(customer_id="cus_0", period_end=date(2026, 3, 28), logins=1, active_users=1,
                                  feature_adoption=0.1, support_tickets=0))  # fmt: skip
        session.flush()
    with session_scope(database) as session:
        customer = session.get(Customer, "cus_0")
        assert customer is not None and len(customer.usage) == 3


def test_a_v0_1_user_whose_normalised_name_is_taken_keeps_the_old_one(database: Engine) -> None:
    v0_1.metadata.create_all(database)
    with database.begin() as connection:
        connection.execute(
            v0_1.csm_users.insert(),
            [
                {"username": "ann@example.com", "password_hash": "x"},
                {"username": "Ann@Example.com", "password_hash": "y"},
            ],
        )
    upgrade(database)
    with database.connect() as connection:
        names = list(connection.scalars(text("SELECT username FROM csm_users ORDER BY username")))
    assert names == ["Ann@Example.com", "ann@example.com"]


def test_upgrade_is_idempotent(database: Engine) -> None:
    before = _make_v0_1(database)
    upgrade(database)
    after_first = _read_v0_1(database)
    upgrade(database)
    upgrade(database)
    assert _version_rows(database) == [HEAD]
    assert _read_v0_1(database) == after_first
    assert len(after_first["customers"]) == len(before["customers"])


def test_a_database_create_all_made_from_the_current_models_is_stamped_at_head(database: Engine) -> None:
    Base.metadata.create_all(database)
    upgrade(database)
    assert _version_rows(database) == [HEAD]


def test_an_unversioned_database_of_unknown_shape_is_refused_untouched(database: Engine) -> None:
    v0_1.customers.create(database)  # one v0.1 table only: neither v0.1 nor the current schema
    with pytest.raises(migrations.SchemaUnrecognised, match=r"neither the v0\.1 schema nor the current one"):
        upgrade(database)
    assert inspect(database).get_table_names() == ["customers"]


def test_the_rasa_tracker_store_sharing_the_database_is_left_alone(database: Engine) -> None:
    with database.begin() as connection:
        connection.execute(text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255))"))
    _make_v0_1(database)
    upgrade(database)
    assert _differences(database) == []
    assert "events" in inspect(database).get_table_names()


def test_check_current_refuses_an_outdated_database_with_a_clear_message(database: Engine) -> None:
    upgrade(database, migrations.BASELINE)
    with pytest.raises(SchemaOutdated) as outdated:
        check_current(database)
    assert str(outdated.value) == (
        f"the app database is at revision 0001, the code needs {HEAD}: run `python -m keepwell db upgrade`"
    )
    upgrade(database)
    check_current(database)


def test_check_current_refuses_an_unversioned_and_a_newer_database(database: Engine) -> None:
    _make_v0_1(database)
    with pytest.raises(SchemaOutdated, match=r"at revision none \(never migrated\), .* db upgrade"):
        check_current(database)
    upgrade(database)
    with database.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(SchemaOutdated, match=r"at revision 9999, .*a newer Keepwell migrated it"):
        check_current(database)


@pytest.mark.parametrize("start", ["empty", "v0.1"])
def test_two_upgrades_at_once_both_succeed(database: Engine, start: str) -> None:
    if start == "v0.1":
        before = _make_v0_1(database)
    engines = [_twin(database), _twin(database)]
    barrier = threading.Barrier(len(engines))
    errors: list[BaseException] = []

    def _run(engine: Engine) -> None:
        try:
            barrier.wait(timeout=10)
            upgrade(engine)
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=_run, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for engine in engines:
        engine.dispose()
    assert errors == []
    assert _version_rows(database) == [HEAD]
    assert _differences(database) == []
    if start == "v0.1":
        assert len(_read_v0_1(database)["usage_snapshots"]) == len(before["usage_snapshots"])


def test_a_failed_upgrade_leaves_the_database_as_it_was(database: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    before = _make_v0_1(database)
    tables = sorted(inspect(database).get_table_names())

    def _explode(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("power cut")

    # The last step of 0002 fails, after every v0.1 table was copied or renamed and columns were added.
    with monkeypatch.context() as patch:
        patch.setattr("alembic.operations.Operations.create_index", _explode, raising=False)
        with pytest.raises(RuntimeError, match="power cut"):
            upgrade(database)
    assert sorted(inspect(database).get_table_names()) == tables
    assert current_revision(database) is None
    assert _read_v0_1(database) == before
    upgrade(database)
    assert _version_rows(database) == [HEAD]


def test_a_downgrade_to_the_baseline_gives_back_the_v0_1_schema(database: Engine) -> None:
    from alembic import command

    before = _make_v0_1(database)
    upgrade(database)
    with _migration_transaction(database) as connection:
        command.downgrade(migrations.config(connection), migrations.BASELINE)
    assert current_revision(database) == migrations.BASELINE
    assert _differences(database, v0_1.metadata) == []
    with database.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(v0_1.usage_snapshots)) == len(
            before["usage_snapshots"]
        )
    upgrade(database)
    assert _differences(database) == []


def test_cli_db_current_prints_the_revision_and_fails_when_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KEEPWELL_DATA_DIR", str(tmp_path))
    get_core_settings.cache_clear()
    engine = make_engine(get_core_settings().resolved_database_url)
    try:
        assert cli(["db", "current"]) == 1
        assert "none (the code needs" in capsys.readouterr().out
        upgrade(engine, migrations.BASELINE)
        assert cli(["db", "current"]) == 1
        assert f"0001 (the code needs {HEAD}: run `python -m keepwell db upgrade`)" in capsys.readouterr().out
        upgrade(engine)
        assert cli(["db", "current"]) == 0
        assert capsys.readouterr().out.strip() == f"{HEAD} (head)"
    finally:
        engine.dispose()
        get_core_settings.cache_clear()


def test_cli_db_revision_writes_nothing_when_the_models_and_migrations_agree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "migrations"
    shutil.copytree(migrations.SCRIPT_LOCATION, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(migrations, "SCRIPT_LOCATION", copy)
    written_before = sorted(path.name for path in (copy / "versions").glob("*.py"))
    assert cli(["db", "revision", "-m", "nothing to do"]) == 1
    assert "no revision written" in capsys.readouterr().out
    assert sorted(path.name for path in (copy / "versions").glob("*.py")) == written_before


def test_cli_db_revision_writes_what_the_models_changed_as_a_formatted_revision(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A copy of the migrations without the latest one stands for "a developer changed the models".
    copy = tmp_path / "migrations"
    shutil.copytree(migrations.SCRIPT_LOCATION, copy, ignore=shutil.ignore_patterns("__pycache__"))
    latest = sorted((copy / "versions").glob("*.py"))[-1]
    latest.unlink()
    monkeypatch.setattr(migrations, "SCRIPT_LOCATION", copy)
    previous = migrations.head()

    assert cli(["db", "revision", "-m", "Add the log"]) == 0

    # Numbered after the head's leading digits, whether the head is `0003` or a named id like `0006_api_keys`.
    number = int(re.match(r"\d+", previous).group()) + 1  # type: ignore[union-attr]
    written = copy / "versions" / f"{number:04d}_add_the_log.py"
    assert f"Wrote {written}" in capsys.readouterr().out
    source = written.read_text()
    assert f'down_revision: str | None = "{previous}"' in source  # ruff's quotes: the hooks ran
    assert "op.create_table" in source or "op.batch_alter_table" in source
    ruff = [sys.executable, "-m", "ruff"]
    assert subprocess.run([*ruff, "format", "--check", "--quiet", str(written)], check=False).returncode == 0
    # The revision holds the whole change: with it, the models and the migrations agree again.
    assert cli(["db", "revision", "-m", "Nothing more"]) == 1
    assert "agree" in capsys.readouterr().out


def test_the_gateway_refuses_to_start_on_an_outdated_database(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from api.main import create_app
    from api.settings import Settings

    settings = Settings(data_dir=tmp_path, demo_mode=True, rate_limit_enabled=False)
    engine = make_engine(settings.resolved_database_url)
    upgrade(engine, migrations.BASELINE)
    engine.dispose()
    with pytest.raises(SchemaOutdated, match="at revision 0001"), TestClient(create_app(settings)):
        pass


def test_the_action_server_refuses_an_outdated_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from actions import services
    from actions.settings import get_settings

    monkeypatch.setenv("KEEPWELL_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    services.engine.cache_clear()
    try:
        with pytest.raises(SchemaOutdated, match=r"revision none \(never migrated\)"):
            services.engine()
    finally:
        get_settings.cache_clear()
        services.engine.cache_clear()


def test_nothing_outside_the_migrations_creates_tables() -> None:
    """The gateway and the action server check the schema; only keepwell.db.upgrade (via bootstrap) changes it."""
    root = Path(__file__).resolve().parents[2]
    offenders = [
        str(path.relative_to(root))
        for folder in ("api", "actions", "keepwell", "launcher")
        for path in (root / folder).rglob("*.py")
        if "migrations" not in path.parts
        and ("create_all(" in path.read_text() or "create_tables(" in path.read_text())
    ]
    assert offenders == [], offenders
