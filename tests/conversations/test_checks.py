"""The turn checks on made-up observations: what counts as cited, offered, handed off, feedback, in context."""

from tests.conversations.checks import Observation, check
from tests.conversations.suite import Expect

ANSWER = {
    "role": "bot",
    "text": "Refund policy — Charged by mistake?\nIf you were charged twice, contact us within 60 days.",
    "buttons": [],
    "sources": [{"title": "Refund policy", "url": "/help/billing/refunds"}],
}
NOT_SURE = {
    "role": "bot",
    "text": "I'm not sure about that one, and I'd rather not guess. Shall I get a person from our team?",
    "buttons": [{"title": "Talk to a person", "payload": "/request_human"}],
    "sources": [],
}


def kinds(expect: dict[str, object], observation: Observation) -> list[str]:
    return [f.kind for f in check(Expect.model_validate(expect), observation)]


def test_article_and_section_from_the_heading_or_the_anchor() -> None:
    seen = Observation(200, [ANSWER])
    assert kinds({"article": "billing/refunds", "section": "Charged by mistake?"}, seen) == []
    assert kinds({"article": "billing/refunds", "section": "How to request a refund"}, seen) == ["section"]
    source = {"title": "Refund policy", "url": "/help/billing/refunds#how-to-request-a-refund"}
    anchored = {**ANSWER, "text": "If you were charged twice ...", "sources": [source]}
    assert (
        kinds({"article": "billing/refunds", "section": "How to request a refund"}, Observation(200, [anchored])) == []
    )
    assert kinds({"article": "billing/cancel-subscription"}, seen) == ["article"]
    assert kinds({"article_one_of": ["billing/cancel-subscription", "billing/refunds"]}, seen) == []
    assert kinds({"no_article": True}, seen) == ["no_article"]


def test_offered_is_not_handed_off_and_a_handoff_needs_a_request() -> None:
    offered = Observation(200, [NOT_SURE])
    assert kinds({"person": "offered"}, offered) == []
    assert kinds({"person": "handed_off"}, offered) == ["person"]
    handed = Observation(200, [{"role": "bot", "text": "I've asked a customer success manager to join."}], handoffs=1)
    assert kinds({"person": "offered"}, handed) == ["person"]
    assert kinds({"person": "offered_or_handed_off"}, handed) == []
    assert kinds({}, handed) == ["unasked_handoff"]
    assert kinds({"person": "offered"}, Observation(200, [ANSWER])) == ["person"]


def test_feedback_recorded_only_when_expected() -> None:
    recorded = Observation(200, [{"role": "bot", "text": "Thank you"}], feedback=["I want my money back"])
    assert kinds({}, recorded) == ["false_feedback"]
    assert kinds({"feedback": "recorded"}, recorded) == []
    assert kinds({"feedback": "recorded"}, Observation(200, [ANSWER])) == ["feedback"]


def test_a_follow_up_stays_on_its_topic_a_fallback_and_the_notice_are_caught() -> None:
    assert kinds({"stays_on": "billing/refunds"}, Observation(200, [ANSWER])) == []
    assert kinds({"stays_on": "billing/refunds"}, Observation(200, [NOT_SURE])) == []
    assert kinds({"stays_on": "billing/invoices-and-receipts"}, Observation(200, [ANSWER])) == ["context"]
    assert kinds({"no_fallback": True}, Observation(200, [NOT_SURE])) == ["fallback"]
    notice = {"role": "system", "text": "I'm having trouble answering right now. Your message is saved"}
    assert kinds({}, Observation(200, [notice])) == ["answered"]
    assert (
        kinds({"mentions": ["60 days", ["twice", "double"]], "not_mentions": ["feedback"]}, Observation(200, [ANSWER]))
        == []
    )
