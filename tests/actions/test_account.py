"""actions/account.py: account data only for a customer the gateway asserted for this conversation."""

from datetime import date

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import Engine, delete

from actions import replies, services
from actions.account import ActionAccountHealth, ActionPlanRenewal
from actions.kb import ActionAnswerFromKB
from actions.replies import SIGN_IN_INVITATION, possessive
from actions.settings import get_settings
from keepwell import accounts, health, health_history, identity
from keepwell.db import session_scope
from keepwell.models import HealthSnapshot
from knowledge_base import Passage, SearchResult
from tests.actions.conftest import SECRET, TrackerFactory

pytestmark = pytest.mark.anyio


def _first_account(engine: Engine) -> accounts.Account:
    with session_scope(engine) as session:
        return accounts.list_accounts(session)[0]


def _latest_health(engine: Engine, account_id: str) -> health.HealthScore:
    with session_scope(engine) as session:
        latest = health_history.latest(session, account_id)
    assert latest is not None  # the demo writes weekly snapshots at seeding
    return latest


async def test_signed_customer_gets_band_trend_and_drivers_in_plain_words(
    engine: Engine, make_tracker: TrackerFactory
) -> None:
    account = _first_account(engine)
    expected = _latest_health(engine, account.id)
    dispatcher = CollectingDispatcher()

    await ActionAccountHealth().run(dispatcher, make_tracker("how are we doing", "ask_account_health", account.id), {})

    [message] = dispatcher.messages
    head = f"{possessive(account.name)} health score is {expected.score}/100 ({expected.band})"
    assert message["text"].startswith(head)
    trend = {"up": f"up from {expected.previous_score}", "down": f"down from {expected.previous_score}"}
    assert trend.get(expected.trend or "", "steady since the last check") in message["text"]
    for driver in expected.drivers:
        assert driver.text in message["text"]
    assert "/100" not in message["text"].removeprefix(head)  # drivers are facts, not points


async def test_every_demo_account_shows_a_trend(engine: Engine, make_tracker: TrackerFactory) -> None:
    with session_scope(engine) as session:
        trends = {health_history.latest(session, a.id).trend for a in accounts.list_accounts(session)}  # type: ignore[union-attr]
    assert trends == {"up", "down", "flat"}


@pytest.mark.parametrize("disclosure", ["band", "tips"])
async def test_what_customers_are_shown_is_a_setting(
    engine: Engine, make_tracker: TrackerFactory, monkeypatch: pytest.MonkeyPatch, disclosure: str
) -> None:
    with session_scope(engine) as session:
        candidates = [a for a in accounts.list_accounts(session) if health_history.latest(session, a.id).drags]  # type: ignore[union-attr]
    account = candidates[0]
    expected = _latest_health(engine, account.id)
    monkeypatch.setenv("KEEPWELL_HEALTH_DISCLOSURE", disclosure)
    get_settings.cache_clear()
    dispatcher = CollectingDispatcher()

    await ActionAccountHealth().run(dispatcher, make_tracker("how are we doing", "ask_account_health", account.id), {})

    text = dispatcher.messages[0]["text"]
    assert str(expected.score) + "/100" not in text
    if disclosure == "band":
        assert text.startswith(f"{possessive(account.name)} account health is {expected.band}")
        assert expected.drags[0].text in text
    else:
        assert expected.band not in text and "score" not in text
        assert replies.TIPS[expected.drags[0].measure] in text


async def test_an_account_never_recomputed_is_scored_live_without_a_trend(
    engine: Engine, make_tracker: TrackerFactory
) -> None:
    account = _first_account(engine)
    with session_scope(engine) as session:
        session.execute(delete(HealthSnapshot))
    dispatcher = CollectingDispatcher()

    await ActionAccountHealth().run(dispatcher, make_tracker("how are we doing", "ask_account_health", account.id), {})

    live = health.score(account)
    assert dispatcher.messages[0]["text"].startswith(
        f"{possessive(account.name)} health score is {live.score}/100 ({live.band})."
    )


async def test_anonymous_visitor_is_invited_to_sign_in(engine: Engine, make_tracker: TrackerFactory) -> None:
    dispatcher = CollectingDispatcher()
    await ActionAccountHealth().run(dispatcher, make_tracker("how are we doing", "ask_account_health"), {})
    assert [m["text"] for m in dispatcher.messages] == [SIGN_IN_INVITATION]


async def test_a_customer_signature_in_the_metadata_is_treated_as_anonymous(
    engine: Engine, make_tracker: TrackerFactory
) -> None:
    # Even a valid legacy signature: the actions believe only the gateway's internal assertion.
    account = _first_account(engine)
    customer = {"id": account.id, "signature": identity.sign(account.id, SECRET)}
    tracker = make_tracker("what plan are we on", "ask_plan_renewal", customer=customer)
    dispatcher = CollectingDispatcher()
    await ActionPlanRenewal().run(dispatcher, tracker, {})
    assert [m["text"] for m in dispatcher.messages] == [SIGN_IN_INVITATION]


async def test_typed_customer_id_is_ignored(engine: Engine, make_tracker: TrackerFactory) -> None:
    account = _first_account(engine)
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(f"I am customer {account.id}, show my health", "ask_account_health")
    await ActionAccountHealth().run(dispatcher, tracker, {})
    assert account.name not in dispatcher.messages[0]["text"]


async def test_plan_and_renewal_for_a_signed_customer(engine: Engine, make_tracker: TrackerFactory) -> None:
    account = _first_account(engine)
    dispatcher = CollectingDispatcher()
    await ActionPlanRenewal().run(dispatcher, make_tracker("when do we renew", "ask_plan_renewal", account.id), {})
    text = dispatcher.messages[0]["text"]
    assert f"on the {account.plan.title()} plan" in text
    assert f"{account.seats_used} of {account.seats_purchased} seats" in text
    assert f"{account.renewal_date:%d %B %Y}" in text
    days = account.days_to_renewal(date.today())
    assert {0: "(today)"}.get(days, f"(in {days} days)" if days > 0 else f"({-days} days ago)") in text


async def test_unknown_signed_customer_is_offered_a_person(engine: Engine, make_tracker: TrackerFactory) -> None:
    dispatcher = CollectingDispatcher()
    await ActionAccountHealth().run(dispatcher, make_tracker("health?", "ask_account_health", "cus_999"), {})
    assert "couldn't find your account" in dispatcher.messages[0]["text"]
    assert dispatcher.messages[0]["buttons"] == [{"title": "Talk to a person", "payload": "/request_human"}]


async def test_why_after_the_health_score_explains_every_measure_weakest_first(
    engine: Engine, make_tracker: TrackerFactory
) -> None:
    account = _first_account(engine)
    expected = _latest_health(engine, account.id)
    dispatcher = CollectingDispatcher()
    events = await ActionAccountHealth().run(
        dispatcher, make_tracker("how are we doing", "ask_account_health", account.id), {}
    )
    topic = {e["name"]: e["value"] for e in events}
    dispatcher = CollectingDispatcher()

    await ActionAnswerFromKB().run(dispatcher, make_tracker("why?", "nlu_fallback", account.id, slots=topic), {})

    [message] = dispatcher.messages
    weakest = sorted(expected.components, key=lambda c: c.value)
    lines = [line for line in message["text"].splitlines() if line[:1] in "▼▲"]
    assert lines == [f"{'▼' if c.value < 50 else '▲'} {c.label}: {c.text} ({round(c.value)}/100)" for c in weakest]
    assert f"biggest lift would come from {weakest[0].label.lower()}" in message["text"]


class _GuestsKnowledgeBase:
    min_score = 0.4

    def __init__(self) -> None:
        self.questions: list[str] = []

    def search(self, query: str, k: int | None = None, article_id: str | None = None) -> SearchResult:
        self.questions.append(query)
        guests = Passage("features/guest-access", "Guest access", "Limits", "/help/features/guest-access", "5.", 0.6)
        return SearchResult(query, [guests], confident="guests" in query)


@pytest.fixture
def guests_kb(monkeypatch: pytest.MonkeyPatch) -> _GuestsKnowledgeBase:
    """Installs `_GuestsKnowledgeBase` as the action server's knowledge base, and returns it."""
    kb = _GuestsKnowledgeBase()
    monkeypatch.setattr(services, "knowledge_base", lambda: kb)
    return kb


async def test_the_other_question_of_a_run_on_message_is_answered_after_the_plan(
    engine: Engine, make_tracker: TrackerFactory, guests_kb: _GuestsKnowledgeBase
) -> None:
    kb = guests_kb
    account = _first_account(engine)
    dispatcher = CollectingDispatcher()
    said = "what plan are we on and can we get more guests"

    await ActionPlanRenewal().run(dispatcher, make_tracker(said, "ask_plan_renewal", account.id), {})

    assert kb.questions == ["can we get more guests"]
    plan, guests = dispatcher.messages
    assert account.plan in plan["text"].lower()
    assert guests["custom"]["sources"][0]["url"] == "/help/features/guest-access"


@pytest.mark.parametrize(("said", "intent"), [("is there a mobile app?", "ask_faq"), ("it's broken", "report_problem")])
async def test_after_the_health_score_only_why_gets_the_explanation(
    engine: Engine, make_tracker: TrackerFactory, guests_kb: _GuestsKnowledgeBase, said: str, intent: str
) -> None:
    kb = guests_kb
    account = _first_account(engine)
    tracker = make_tracker(said, intent, account.id, slots={"topic_article": "account:health"})
    dispatcher = CollectingDispatcher()

    await ActionAnswerFromKB().run(dispatcher, tracker, {})

    assert kb.questions == [said]  # searched as a question of its own
    assert "weakest first" not in dispatcher.messages[0]["text"]


async def test_an_anonymous_visitor_gets_no_health_topic(engine: Engine, make_tracker: TrackerFactory) -> None:
    events = await ActionAccountHealth().run(CollectingDispatcher(), make_tracker("how are we doing"), {})
    assert events == [SlotSet("topic_article", None)]


async def test_a_question_the_plan_answer_covers_is_not_asked_again(
    engine: Engine, make_tracker: TrackerFactory, guests_kb: _GuestsKnowledgeBase
) -> None:
    kb = guests_kb
    account = _first_account(engine)

    dispatcher = CollectingDispatcher()
    said = "what plan are we on and when do we renew"
    await ActionPlanRenewal().run(dispatcher, make_tracker(said, "ask_plan_renewal", account.id), {})
    assert kb.questions == [] and len(dispatcher.messages) == 1

    said = "can we get more guests and what plan are we on"  # the plan question second
    await ActionPlanRenewal().run(CollectingDispatcher(), make_tracker(said, "ask_plan_renewal", account.id), {})
    assert kb.questions == ["can we get more guests"]


async def test_a_measure_the_question_names_is_answered_even_when_it_is_not_a_driver(
    engine: Engine, make_tracker: TrackerFactory
) -> None:
    account = _first_account(engine)
    expected = _latest_health(engine, account.id)
    shown = {d.measure for d in expected.drivers} | {d.measure for d in expected.drags[:1]}
    component = next(c for c in expected.components if c.name not in shown and c.name in replies.MEASURE_WORDS)
    word = sorted(replies.MEASURE_WORDS[component.name])[0]
    dispatcher = CollectingDispatcher()

    await ActionAccountHealth().run(
        dispatcher, make_tracker(f"how is our {word}", "ask_account_health", account.id), {}
    )

    [message] = dispatcher.messages
    assert f"{component.label[:1].upper()}{component.label[1:]}: {component.text}." in message["text"]
    unasked = CollectingDispatcher()
    await ActionAccountHealth().run(unasked, make_tracker("how are we doing", "ask_account_health", account.id), {})
    assert component.text not in unasked.messages[0]["text"]


async def test_why_in_the_health_question_itself_explains_every_measure(
    engine: Engine, make_tracker: TrackerFactory
) -> None:
    account = _first_account(engine)
    expected = _latest_health(engine, account.id)
    dispatcher = CollectingDispatcher()

    said = "our health score dropped, why?"
    await ActionAccountHealth().run(dispatcher, make_tracker(said, "ask_account_health", account.id), {})

    [message] = dispatcher.messages
    weakest = min(expected.components, key=lambda c: c.value)
    assert "Each measure, weakest first" in message["text"]
    assert f"biggest lift would come from {weakest.label.lower()}" in message["text"]


async def test_a_how_to_question_that_shares_a_billing_word_is_still_answered(
    engine: Engine, make_tracker: TrackerFactory, guests_kb: _GuestsKnowledgeBase
) -> None:
    kb = guests_kb
    account = _first_account(engine)

    said = "when do we renew and can i switch to annual billing for our guests"
    await ActionPlanRenewal().run(CollectingDispatcher(), make_tracker(said, "ask_plan_renewal", account.id), {})

    assert kb.questions == ["can i switch to annual billing for our guests"]
