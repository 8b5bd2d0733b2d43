"""keepwell/cli/users.py: `python -m keepwell users …` creates, lists, deactivates, reactivates and sets passwords,
with passwords from a prompt or standard input (never an argument), audited as "cli", with clear exit codes."""

import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from keepwell import audit, staff
from keepwell.cli import main
from keepwell.db import make_engine, session_factory, upgrade
from keepwell.settings import get_core_settings

PASSWORD = "a-long-cli-password"
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The CLI's database (KEEPWELL_DATA_DIR), migrated; an engine on it for the assertions."""
    monkeypatch.setenv("KEEPWELL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KEEPWELL_DEMO_MODE", "false")
    monkeypatch.setenv("KEEPWELL_IDENTITY_SECRET", "i" * 40)
    monkeypatch.setenv("KEEPWELL_INTERNAL_SECRET", "s" * 40)
    get_core_settings.cache_clear()
    engine = make_engine(f"sqlite:///{tmp_path / 'keepwell.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()
    get_core_settings.cache_clear()


@pytest.fixture
def db(database: Engine) -> Iterator[Session]:
    with session_factory(database)() as session:
        yield session


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))


def _prompts(monkeypatch: pytest.MonkeyPatch, *answers: str) -> list[str]:
    asked: list[str] = []
    replies = iter(answers)

    def fake_getpass(prompt: str = "") -> str:
        asked.append(prompt)
        return next(replies)

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    return asked


def _create(monkeypatch: pytest.MonkeyPatch, email: str = "ann@example.test", role: str = "csm") -> int:
    _stdin(monkeypatch, PASSWORD + "\n")
    return main(["users", "create", email, "--role", role, "--password-stdin"])


def test_create_from_standard_input_is_audited_as_cli(
    database: Engine, db: Session, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _stdin(monkeypatch, PASSWORD + "\n")
    assert (
        main(["users", "create", "Ann@Example.test", "--role", "admin", "--name", "Ann Lee", "--password-stdin"]) == 0
    )
    assert capsys.readouterr().out == "Created Admin account ann@example.test.\n"
    user = staff.get_by_email(db, "ann@example.test")
    assert user is not None and (user.role, user.display_name) == ("admin", "Ann Lee")
    assert staff.authenticate(db, "ann@example.test", PASSWORD).ok
    [entry] = audit.list_events(db).items
    assert (entry.actor, entry.action, entry.target_id) == ("cli", "user.create", str(user.id))
    assert entry.detail == {"email": "ann@example.test", "role": "admin"}
    assert PASSWORD not in repr(entry)


def test_create_asks_twice_at_a_prompt(database: Engine, db: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    asked = _prompts(monkeypatch, PASSWORD, PASSWORD)
    assert main(["users", "create", "bob@example.test", "--role", "csm"]) == 0
    assert asked == ["New password: ", "Repeat it: "]
    assert staff.authenticate(db, "bob@example.test", PASSWORD).ok


def test_different_passwords_at_the_prompt_change_nothing(
    database: Engine, db: Session, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _prompts(monkeypatch, PASSWORD, PASSWORD + "x")
    assert main(["users", "create", "bob@example.test", "--role", "csm"]) == 1
    assert "The two passwords differ; nothing was changed." in capsys.readouterr().err
    assert staff.list_staff(db) == []


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (["users", "create", "not-an-email", "--role", "csm", "--password-stdin"], PASSWORD, "valid email address"),
        (["users", "create", "c@example.test", "--role", "csm", "--password-stdin"], "short", "at least 12"),
        (["users", "create", "c@example.test", "--role", "csm", "--password-stdin"], "", "No password on standard"),
        (["users", "deactivate", "ghost@example.test"], "", "There is no account for ghost@example.test."),
        (["users", "set-password", "ghost@example.test", "--password-stdin"], PASSWORD, "no account for"),
    ],
)
def test_refusals_exit_1_with_a_message_and_change_nothing(
    database: Engine,
    db: Session,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    stdin: str,
    message: str,
) -> None:
    _stdin(monkeypatch, stdin + "\n" if stdin else "")
    assert main(argv) == 1
    assert message in capsys.readouterr().err
    assert staff.list_staff(db) == [] and audit.list_events(db).items == []


def test_a_taken_email_is_refused(
    database: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _create(monkeypatch) == 0
    assert _create(monkeypatch) == 1
    assert "There is already an account for ann@example.test." in capsys.readouterr().err


def test_usage_errors_exit_2(database: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["users", "create", "a@example.test"], ["users", "create", "a@example.test", "--role", "owner"]):
        with pytest.raises(SystemExit) as stopped:
            main(argv)
        assert stopped.value.code == 2
    with pytest.raises(SystemExit) as stopped:
        main(["users", "create", "a@example.test", "--role", "csm", "--password", PASSWORD])
    assert stopped.value.code == 2  # there is no way to pass a password as an argument
    capsys.readouterr()


def test_list(database: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["users", "list"]) == 0
    assert "No console accounts yet" in capsys.readouterr().out
    _create(monkeypatch, "zed@example.test")
    _create(monkeypatch, "boss@example.test", role="admin")
    capsys.readouterr()
    assert main(["users", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["EMAIL", "NAME", "ROLE", "STATUS", "LAST", "SIGN-IN"]
    assert lines[1].split() == ["boss@example.test", "-", "admin", "active", "never"]
    assert lines[2].split() == ["zed@example.test", "-", "csm", "active", "never"]


def test_deactivate_reactivate_and_set_password(
    database: Engine, db: Session, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _create(monkeypatch, "boss@example.test", role="admin")
    _create(monkeypatch)
    assert main(["users", "deactivate", "ANN@example.test"]) == 0
    assert "Deactivated ann@example.test; its sessions have ended." in capsys.readouterr().out
    db.expire_all()
    user = staff.get_by_email(db, "ann@example.test")
    assert user is not None and not user.active and user.sessions_valid_after is not None
    assert main(["users", "reactivate", "ann@example.test"]) == 0
    _stdin(monkeypatch, "a-brand-new-password\n")
    assert main(["users", "set-password", "ann@example.test", "--password-stdin"]) == 0
    db.expire_all()
    assert staff.authenticate(db, "ann@example.test", "a-brand-new-password").ok
    actions = [(e.actor, e.action) for e in audit.list_events(db).items]
    assert actions[:3] == [("cli", "user.password_reset"), ("cli", "user.reactivate"), ("cli", "user.deactivate")]


def test_the_last_admin_cannot_be_deactivated(
    database: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _create(monkeypatch, "boss@example.test", role="admin")
    assert main(["users", "deactivate", "boss@example.test"]) == 1
    assert "last active admin" in capsys.readouterr().err


def test_an_unmigrated_database_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KEEPWELL_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("KEEPWELL_DEMO_MODE", "true")
    get_core_settings.cache_clear()
    try:
        assert main(["users", "list"]) == 1
    finally:
        get_core_settings.cache_clear()
    assert "python -m keepwell db upgrade" in capsys.readouterr().err


def test_unusable_settings_are_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KEEPWELL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KEEPWELL_DEMO_MODE", "false")  # with the placeholder secrets
    monkeypatch.delenv("KEEPWELL_IDENTITY_SECRET", raising=False)
    get_core_settings.cache_clear()
    try:
        assert main(["users", "list"]) == 1
    finally:
        get_core_settings.cache_clear()
    assert "error: the settings are not usable" in capsys.readouterr().err


def test_python_dash_m_keepwell_users(database: Engine, tmp_path: Path) -> None:
    """The real entry point, in a child process, with the password on standard input."""
    result = subprocess.run(
        [sys.executable, "-m", "keepwell", "users", "create", "cli@example.test", "--role", "csm", "--password-stdin"],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "KEEPWELL_DATA_DIR": str(tmp_path),
            "KEEPWELL_DEMO_MODE": "true",
        },
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Created CSM account cli@example.test.\n"
