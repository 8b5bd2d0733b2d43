"""actions/onboarding.py: "what should we do next?" answered from the account's own onboarding checklist."""

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import Engine

from actions import onboarding as next_steps
from actions.offers import ActionRecommend
from keepwell import accounts, onboarding
from keepwell.db import session_scope
from tests.actions.conftest import TrackerFactory


@pytest.mark.anyio
async def test_what_should_we_do_next_answers_from_the_checklist(engine: Engine, make_tracker: TrackerFactory) -> None:
    with session_scope(engine) as session:
        ids = [a.id for a in accounts.list_accounts(session)]
        lists = {i: onboarding.checklist(session, i) for i in ids}
    started = next(i for i, c in lists.items() if c.next is not None)
    finished = next(i for i, c in lists.items() if c.complete)
    step = lists[started].next
    assert step is not None

    dispatcher = CollectingDispatcher()
    await ActionRecommend().run(dispatcher, make_tracker("what should we do next?", "ask_recommendations", started), {})
    [message] = dispatcher.messages
    assert f"({lists[started].done} of {lists[started].total} done): {step.title}." in message["text"]
    assert message["custom"]["sources"] == [{"title": step.title, "url": step.help_url}]

    dispatcher = CollectingDispatcher()
    await ActionRecommend().run(
        dispatcher, make_tracker("what should we do next?", "ask_recommendations", finished), {}
    )
    [message] = dispatcher.messages
    assert "has finished the Getting started checklist (6 of 6)" in message["text"]
    assert "Health is" in message["text"]  # then the recommendations

    dispatcher = CollectingDispatcher()
    await ActionRecommend().run(dispatcher, make_tracker("any recommendations?", "ask_recommendations", started), {})
    assert "checklist" not in dispatcher.messages[0]["text"]


@pytest.mark.parametrize(
    ("said", "asks"),
    [
        ("what should we do next?", True),
        ("any next steps you'd suggest for us", True),
        ("what's next for us", True),
        ("where should we start", True),
        ("we're rolling this out to 300 people next month, any tips", False),
        ("any recommendations", False),
    ],
)
def test_which_questions_ask_for_the_next_step(said: str, asks: bool) -> None:
    assert next_steps.asks_next_step(said) is asks
