"""`python -m keepwell seed-conversations`: adds generated conversations across the demo accounts, in demo mode after
preparing the database; wrong usage is exit 2."""

from pathlib import Path

import pytest
from sqlalchemy import func, select

from keepwell.cli import main
from keepwell.db import dispose_engine, make_engine, session_factory
from keepwell.models import Conversation, Message
from keepwell.settings import get_core_settings


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KEEPWELL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KEEPWELL_DEMO_MODE", "true")
    monkeypatch.delenv("KEEPWELL_DATABASE_URL", raising=False)
    get_core_settings.cache_clear()
    yield tmp_path
    dispose_engine(get_core_settings().resolved_database_url)
    get_core_settings.cache_clear()


def test_it_adds_conversations_across_the_demo_accounts(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["seed-conversations", "--count", "12", "--quiet"]) == 0
    assert "Added 12 conversations (240 messages" in capsys.readouterr().out
    engine = make_engine(f"sqlite:///{data_dir / 'keepwell.db'}")
    with session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(Conversation)) == 12
        assert session.scalar(select(func.count()).select_from(Message)) == 240
        assert session.scalar(select(func.count(Conversation.customer_id.distinct()))) >= 2  # demo accounts
    engine.dispose()


@pytest.mark.parametrize("count", ["0", "-3", "many"])
def test_a_count_that_is_not_a_positive_number_is_wrong_usage(count: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["seed-conversations", "--count", count])
    assert exit_.value.code == 2
    assert "--count" in capsys.readouterr().err
