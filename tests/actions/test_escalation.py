"""actions/escalation.py: the conversation read off the tracker, the offer of a person made once, and the flags the
CSMs see (raised once, offered or not; a failed write never takes the offer away)."""

from datetime import date

import pytest
from rasa_sdk.events import SlotSet
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from actions import services
from actions.escalation import OFFER_SLOT, OFFERS, UNHELPFUL_SLOT, conversation_turns, offer_after_answer
from keepwell import escalation
from keepwell.db import session_scope
from keepwell.models import ConversationFlag, HealthSnapshot
from tests.actions.conftest import TrackerFactory, flags_of, open_conversation

pytestmark = pytest.mark.anyio


def _user(text: str, intent: str = "ask_faq") -> dict[str, object]:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent, "confidence": 0.9}}}


def _missed() -> dict[str, object]:
    return {"event": "slot", "name": UNHELPFUL_SLOT, "value": True}


def test_turns_are_the_typed_messages_with_the_misses_marked(make_tracker: TrackerFactory) -> None:
    tracker = make_tracker("and now?", extra_events=[_user("where is the flux setting"), _missed(), _user("/affirm")])
    turns = conversation_turns(tracker)
    assert [(t.text, t.unhelpful) for t in turns[-2:]] == [("and now?", False), ("where is the flux setting", True)]


def test_a_message_sent_again_after_a_failure_is_not_a_repeated_question(make_tracker: TrackerFactory) -> None:
    first_try = {**_user("how do I invite my teammates"), "metadata": {"keepwell": {"message_id": 7}}}
    tracker = make_tracker("how do I invite my teammates", extra_events=[first_try])
    tracker.events[-2]["metadata"] = {"keepwell": {"message_id": 7}}  # the retry carries the same log id
    tracker.events.append(tracker.events.pop(-2))  # the retry is the latest event
    assert [t.text for t in conversation_turns(tracker)].count("how do I invite my teammates") == 1


async def test_a_second_miss_in_a_row_offers_a_person_and_records_it(
    make_tracker: TrackerFactory, engine: Engine
) -> None:
    earlier = [_user("where is the flux capacitor setting"), _missed()]
    tracker = make_tracker("what about the warp drive toggle", "ask_faq", extra_events=earlier)
    tracker.events.append(tracker.events.pop(-3))  # the latest message last, after the earlier miss
    offer, events = await offer_after_answer(tracker, unhelpful=True)
    assert offer is not None and "person" in offer.text
    assert events == [SlotSet(UNHELPFUL_SLOT, True), SlotSet(OFFER_SLOT, True)]


async def test_one_miss_asks_to_rephrase_unless_the_account_is_at_risk(
    make_tracker: TrackerFactory, engine: Engine
) -> None:
    question = "where is the flux capacitor setting"
    assert (await offer_after_answer(make_tracker(question, "ask_faq"), unhelpful=True))[0] is None
    # In the demo world cus_002 is green on $320 a month; cus_014 is red.
    healthy = make_tracker(question, "ask_faq", customer_id="cus_002")
    assert (await offer_after_answer(healthy, unhelpful=True))[0] is None
    red = make_tracker(question, "ask_faq", customer_id="cus_014")
    offer, _events = await offer_after_answer(red, unhelpful=True)
    assert offer is not None and offer.text == OFFERS[escalation.AT_RISK_ACCOUNT]


async def test_at_risk_is_read_from_the_recorded_health_not_a_live_score(
    make_tracker: TrackerFactory, engine: Engine
) -> None:
    # cus_002 scores green live; the engine's last recompute recorded it red, and the CSMs see red on its 360.
    with Session(engine) as session, session.begin():
        session.execute(delete(HealthSnapshot).where(HealthSnapshot.account_id == "cus_002"))
        session.add(HealthSnapshot(account_id="cus_002", as_of=date.today(), scorecard="default", score=20, band="red"))
    tracker = make_tracker("where is the flux capacitor setting", "ask_faq", customer_id="cus_002")
    offer, _events = await offer_after_answer(tracker, unhelpful=True)
    assert offer is not None and offer.text == OFFERS[escalation.AT_RISK_ACCOUNT]


async def test_never_twice_in_a_row_never_after_a_no_but_a_churn_moment_or_a_lasting_problem_may_repeat(
    make_tracker: TrackerFactory, engine: Engine
) -> None:
    just_offered = make_tracker("this is useless", "ask_faq", slots={OFFER_SLOT: True})
    offer, events = await offer_after_answer(just_offered, unhelpful=True)
    assert offer is None and SlotSet(OFFER_SLOT, False) in events
    assert (await offer_after_answer(just_offered, unhelpful=True, reason=escalation.PROBLEM_REPORTED))[0] is None
    churn, _events = await offer_after_answer(just_offered, unhelpful=False, reason=escalation.CHURN_MOMENT)
    assert churn is not None, "a churn moment is always worth the offer"
    still, _events = await offer_after_answer(just_offered, unhelpful=True, reason=escalation.STILL_BROKEN)
    assert still is not None

    no = [
        {"event": "slot", "name": OFFER_SLOT, "value": True},
        {"event": "user", "text": "no thanks", "parse_data": {"intent": {"name": "deny"}}},
    ]
    declined = make_tracker("this is useless", "ask_faq", extra_events=no)
    declined.events.append(declined.events.pop(-3))  # the latest message after the "no"
    assert (await offer_after_answer(declined, unhelpful=True, reason=escalation.CHURN_MOMENT))[0] is None


async def test_a_new_session_starts_afresh(make_tracker: TrackerFactory, engine: Engine) -> None:
    yesterday = [
        _user("how do I invite my teammates"),
        {"event": "slot", "name": OFFER_SLOT, "value": True},
        {"event": "user", "text": "no thanks", "parse_data": {"intent": {"name": "deny"}}},
        {"event": "session_started"},
    ]
    tracker = make_tracker("where is the flux capacitor setting", "ask_faq", extra_events=yesterday)
    tracker.events.append(tracker.events.pop(-5))  # the latest message, in the new session

    assert [t.text for t in conversation_turns(tracker)] == ["where is the flux capacitor setting"]
    missed_again = make_tracker("how do I invite my teammates", extra_events=[*yesterday, _user("nope"), _missed()])
    missed_again.events.append(missed_again.events.pop(-7))
    offer, _events = await offer_after_answer(missed_again, unhelpful=True)
    assert offer is not None, "yesterday's 'no thanks' does not hold today; two misses in a row today do"


async def test_a_repeated_question_is_flagged_once_even_when_no_person_is_offered(
    make_tracker: TrackerFactory, engine: Engine
) -> None:
    no = [
        _user("how do I export my projects to csv"),
        {"event": "slot", "name": OFFER_SLOT, "value": True},
        {"event": "user", "text": "no thanks", "parse_data": {"intent": {"name": "deny"}}},
    ]
    tracker = make_tracker("how can I export projects to csv", "ask_howto", extra_events=no)
    tracker.events.append(tracker.events.pop(-4))  # the latest message last
    logged = open_conversation(engine, tracker.sender_id)
    tracker.latest_message["metadata"] = {"keepwell": {"message_id": logged}}

    offer, _events = await offer_after_answer(tracker, unhelpful=False)
    await offer_after_answer(tracker, unhelpful=False)  # asked a third time: still one open flag

    assert offer is None, "the customer said no to a person"
    assert flags_of(engine) == [("repeated_question", "how can I export projects to csv")]
    with session_scope(engine) as session:
        assert session.scalar(select(ConversationFlag.message_id)) == logged  # the transcript marks the message

    tracker.latest_message["metadata"] = {"keepwell": {"message_id": logged + 99}}  # not in the log: left out
    with session_scope(engine) as session:
        session.execute(delete(ConversationFlag))
    await offer_after_answer(tracker, unhelpful=False)
    with session_scope(engine) as session:
        assert session.scalar(select(ConversationFlag.message_id)) is None


async def test_frustration_is_flagged_and_a_failed_flag_still_offers_a_person(
    make_tracker: TrackerFactory, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    tracker = make_tracker("this is useless, I have had enough", "ask_faq")
    open_conversation(engine, tracker.sender_id)
    offer, _events = await offer_after_answer(tracker, unhelpful=False)
    assert offer is not None and offer.text == OFFERS[escalation.FRUSTRATION]
    assert flags_of(engine) == [("frustration", "this is useless, I have had enough")]

    def broken() -> Engine:
        raise RuntimeError("database down")

    monkeypatch.setattr(services, "engine", broken)
    offer, _events = await offer_after_answer(make_tracker("this is ridiculous!!", "ask_faq"), unhelpful=False)
    assert offer is not None and offer.text == OFFERS[escalation.FRUSTRATION]


async def test_an_answer_that_helped_raises_no_flag(make_tracker: TrackerFactory, engine: Engine) -> None:
    tracker = make_tracker("how do I invite my teammates?", "ask_howto")
    open_conversation(engine, tracker.sender_id)
    assert (await offer_after_answer(tracker, unhelpful=False))[0] is None
    assert flags_of(engine) == []
