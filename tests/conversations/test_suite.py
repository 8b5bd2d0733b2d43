"""The suite's files hold together: format, size, split, coverage, and every article, section and customer exists."""

from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from keepwell import accounts, demo_data
from keepwell.models import Base
from knowledge_base.documents import load_articles
from tests.conversations.suite import (
    CATEGORIES,
    HALVES,
    SMOKE_SIZE,
    Conversation,
    SuiteError,
    half_of,
    load_file,
    load_suite,
    smoke_subset,
)

CONTENT = Path(__file__).resolve().parents[2] / "knowledge_base" / "content"
# The demo world's customers are generated from a fixed seed (keepwell/demo_data.py); bands do not depend on the day.
DEMO_SEED = 7


@pytest.fixture(scope="module")
def suite() -> list[Conversation]:
    return load_suite()


@pytest.fixture(scope="module")
def demo_accounts() -> dict[str, accounts.Account]:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        demo_data.seed(session, seed=DEMO_SEED)
        session.flush()
        return {account.id: account for account in accounts.list_accounts(session)}


def test_at_least_200_conversations_in_two_halves_covering_every_category(suite: list[Conversation]) -> None:
    assert len(suite) >= 200
    per_half = Counter((c.half, c.category) for c in suite)
    for half in HALVES:
        for category in CATEGORIES:
            assert per_half[half, category] >= 5, f"{half}/{category} has {per_half[half, category]} conversations"
    assert abs(sum(c.half == "dev" for c in suite) - sum(c.half == "heldout" for c in suite)) <= len(CATEGORIES)


def test_the_split_rule_is_fixed_odd_dev_even_held_out(suite: list[Conversation]) -> None:
    assert all(c.half == half_of(c.number) for c in suite)


def test_the_smoke_subset_is_30_dev_conversations(suite: list[Conversation]) -> None:
    smoke = smoke_subset(suite)
    assert len(smoke) == SMOKE_SIZE
    assert {c.half for c in smoke} == {"dev"}


def test_every_article_and_section_exists(suite: list[Conversation]) -> None:
    sections = {}
    for article in load_articles(CONTENT):
        headings = [line[3:].strip() for line in article.body.splitlines() if line.startswith("## ")]
        sections[article.id] = {h.lower() for h in headings}
    for conversation in suite:
        for index, turn in enumerate(conversation.turns, start=1):
            expect, where = turn.expect, f"{conversation.id} turn {index}"
            stays = [expect.stays_on] if expect.stays_on else []
            for article in [*expect.article, *expect.article_one_of, *stays]:
                assert article in sections, f"{where}: no article {article}"
            if expect.section:
                assert expect.section.lower() in sections[expect.section_article], (
                    f"{where}: {expect.section_article} has no section {expect.section!r}"
                )


def test_every_customer_is_a_demo_customer(suite: list[Conversation], demo_accounts: dict[str, object]) -> None:
    unknown = {c.customer for c in suite if c.customer and c.customer not in demo_accounts}
    assert not unknown


def test_escalation_triggers_and_churn_moments_are_covered(suite: list[Conversation]) -> None:
    def person(value: str) -> int:
        return sum(t.expect.person == value for c in suite for t in c.turns)

    assert person("offered") >= 30
    assert person("handed_off") >= 5
    assert person("offered_or_handed_off") >= 5
    churn = [c for c in suite if c.category in ("cancellation", "refunds")]
    assert sum(any(t.expect.csm_alerts for t in c.turns) for c in churn) >= 12
    assert sum(t.expect.feedback == "recorded" for c in suite for t in c.turns) >= 16


def test_a_held_out_conversation_in_the_dev_half_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "refunds.yml"
    path.write_text(
        "category: refunds\nconversations:\n  - id: refunds-02\n    turns:\n      - user: refund\n", encoding="utf-8"
    )
    with pytest.raises(SuiteError, match="belongs in heldout"):
        load_file(path, "dev")


def test_an_unknown_expectation_is_refused_with_the_file_and_conversation(tmp_path: Path) -> None:
    path = tmp_path / "refunds.yml"
    path.write_text(
        "category: refunds\nconversations:\n  - id: refunds-01\n    turns:\n"
        "      - user: refund\n        expect: {artcle: billing/refunds}\n",
        encoding="utf-8",
    )
    with pytest.raises(SuiteError, match=r"refunds\.yml: conversation refunds-01.*artcle"):
        load_file(path, "dev")
