"""Answers from the product manual and FAQ."""

import asyncio
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import followups, replies, services
from actions._dispatch import send
from actions.customer import account_reply, health_of
from actions.escalation import OFFER_SLOT, answer_did_not_help, offer_after_answer
from actions.settings import get_settings
from keepwell import escalation
from keepwell.questions import split_questions
from keepwell.text import content_words
from knowledge_base import SearchResult


def previous_question(tracker: Tracker) -> str:
    """The last thing the user typed before the current message (which may be a button payload)."""
    users = [e for e in tracker.events if e.get("event") == "user"]
    return next((text for event in reversed(users[:-1]) if (text := followups.typed(event))), "")


# A follow-up is answered from the conversation's article unless another article answers the question better by
# this much (cosine).
FOLLOW_UP_MARGIN = 0.08


def _search(
    question: str,
    article_id: str | None = None,
    topic: str | None = None,
    follow_up: bool = False,
    asked_before: str = "",
) -> SearchResult:
    """Search the knowledge base; a follow-up is resolved against its topic's article first.

    A follow-up stays in the topic's article when, read with the question the topic answered and the topic's words
    ("how do i connect slack can it create tasks too (slack)"), that article still ranks first (its section then
    chosen without the earlier question, which would pull back to the section already given, unless the follow-up
    only names what to ask it about: "what about growth?"); or when the question
    alone finds an answer there about as good as anywhere.
    Otherwise it is a new question ("ok and when does it renew" after the plans), answered afresh. A question that
    does not look like a follow-up but finds nothing on its own is tried once more with the topic's words.
    """
    kb = services.knowledge_base()
    if topic is None or article_id is not None:
        return kb.search(question, None, article_id)
    if not follow_up:
        fresh = kb.search(question)
        if fresh.confident:
            return fresh
        in_context = kb.search(followups.in_context(question, topic))
        on_topic = in_context.confident and in_context.passages[0].article_id == topic
        return in_context if on_topic else fresh
    in_context = kb.search(followups.in_context(question, topic, asked_before))
    if _clearly_on(in_context, topic):
        # The words asked before chose the article; the section is the one this question asks about.
        if asked_before and not followups.is_elliptical(question):
            return kb.search(followups.in_context(question, topic), None, topic)
        return in_context
    vector = kb.encode_query(question)  # encoded once for both searches below
    inside = kb.search(question, None, topic, vector=vector)
    fresh = kb.search(question, vector=vector)
    if inside.passages and inside.passages[0].score >= kb.min_score:
        if not fresh.confident or inside.passages[0].score >= fresh.passages[0].score - FOLLOW_UP_MARGIN:
            return inside
    return fresh if fresh.confident else in_context


def _clearly_on(result: SearchResult, topic: str) -> bool:
    """Whether the topic's article answers, read with the topic's words, with no other article about as good (the
    topic's words pull its article up, so a runner-up that close may be what the question is really about)."""
    return result.confident and not result.ambiguous and result.passages[0].article_id == topic


def _search_each(questions: list[str]) -> tuple[list[SearchResult], list[str]]:
    """The confident answers to the questions of a run-on message, one per section, in the order asked; and the
    questions nothing answered. Two questions answered by two sections of one article ("where are my invoices and
    can i add our vat number") get both sections; two answered by the same section get it once."""
    kb = services.knowledge_base()
    results: list[SearchResult] = []
    missed: list[str] = []
    for question in questions:
        result = kb.search(question)
        best = result.best if result.confident else None
        if best is None:
            missed.append(question)
        elif all((best.article_id, best.section) != (r.passages[0].article_id, r.passages[0].section) for r in results):
            results.append(result)
    return results, missed


# "how do i …", "can i …": a question about the product, which the help centre answers even when it names a word an
# account answer covers ("when do we renew and can i switch to annual billing").
_ASKS_HOW = re.compile(
    r"^\s*(how (do|can|would|should) (i|we)|how to|can (i|we|you)|could (i|we)|is it possible)\b", re.I
)


def _covered(question: str, covered: frozenset[str]) -> bool:
    """Whether an account answer already answered this question of a run-on message."""
    return bool(content_words(question) & covered) and not _ASKS_HOW.match(question)


async def answer_the_rest(dispatcher: CollectingDispatcher, text: str, covered: frozenset[str]) -> str | None:
    """After an account answer to one question of a run-on message ("what plan are we on and can we get more
    guests"), answer the others the help centre answers confidently; returns the last article answered.

    Args:
        covered: words of the questions the account answer already covered (plan, seats, renewal, ...): a question
            with one of them is not asked again of the help centre.
    """
    questions = split_questions(text)
    rest = [q for q in questions if not _covered(q, covered)]
    if len(rest) == len(questions):
        rest = rest[1:]  # none names what the account answer covered: the first is the one it answered
    answered = None
    results, _missed = await asyncio.to_thread(_search_each, rest) if rest else ([], [])
    for result in results:
        # The likelier reading, as for any question; a close runner-up stays one tap away.
        send(dispatcher, replies.kb_answer(result, replies.ANSWER_CHARS // 2))
        answered = result.passages[0].article_id
    return answered


async def answer(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    question: str,
    *,
    picked: str | None = None,
    reported: bool = False,
    fresh: bool = False,
) -> list[EventType]:
    """Answer a question from the knowledge base (or say honestly that it can't), then offer a person if it is time.

    Args:
        picked: the article the customer chose from a button; the question is then the one typed before.
        reported: the customer reports a problem: the troubleshooting answer, then a person on offer.
        fresh: a question of its own, never read as a follow-up (a problem said as feedback).
    """
    topic = None if fresh else tracker.get_slot(followups.TOPIC_SLOT)
    if topic == followups.ACCOUNT_HEALTH:
        if not reported and followups.asks_why(question):  # "why?" after the health score: what drives it
            disclosure = get_settings().health_disclosure
            send(
                dispatcher,
                await account_reply(tracker, lambda a: replies.health_explained(a, health_of(a), disclosure)),
            )
            return [SlotSet(OFFER_SLOT, False)]
        topic = None
    follow_up = not picked and bool(topic) and followups.is_follow_up(question)
    if follow_up and escalation.only_says_it_still_fails(question):
        # "still not working" after an answer: the same article again would not help; a person might.
        return await _still_broken(dispatcher, tracker, question, topic)
    questions = [] if picked or follow_up else split_questions(question)
    # Encoding the query is CPU work; keep the server's event loop free for other conversations.
    results, missed = await asyncio.to_thread(_search_each, questions) if len(questions) > 1 else ([], [])
    if len(results) < 2:
        before = followups.question_behind(tracker.events, topic) if follow_up and topic else ""
        results, missed = [await asyncio.to_thread(_search, question, picked, topic, follow_up, before)], []
    unhelpful = not results[0].confident or results[0].best is None
    # A reported problem gets the troubleshooting answer and then a person on offer; otherwise the escalation
    # triggers decide (frustration, the same question again, two misses in a row, an at-risk account).
    offer, events = await offer_after_answer(
        tracker, unhelpful=unhelpful, reason=escalation.PROBLEM_REPORTED if reported and not picked else None
    )
    if unhelpful:
        send(dispatcher, replies.kb_not_sure(person_follows=offer is not None))
    else:
        for reply in replies.kb_answers(results) if len(results) > 1 else [replies.kb_answer(results[0])]:
            send(dispatcher, reply)
        if missed:  # the rest of a run-on message: say what was not answered rather than drop it
            send(dispatcher, replies.kb_missed(missed))
        # A follow-up is most likely about the last answer.
        events.append(SlotSet(followups.TOPIC_SLOT, results[-1].passages[0].article_id))
    if offer is not None:
        send(dispatcher, offer)
    return events


async def _still_broken(
    dispatcher: CollectingDispatcher, tracker: Tracker, question: str, topic: str | None
) -> list[EventType]:
    await answer_did_not_help(tracker, question, topic)  # negative feedback on the answer, for the CSMs
    offer, events = await offer_after_answer(tracker, unhelpful=True, reason=escalation.STILL_BROKEN)
    send(dispatcher, replies.still_broken(person_follows=offer is not None))
    if offer is not None:
        send(dispatcher, offer)
    return events


class ActionAnswerFromKB(Action):
    def name(self) -> str:
        return "action_answer_from_kb"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        picked = next(tracker.get_latest_entity_values("article_id"), None)
        question = previous_question(tracker) if picked else (tracker.latest_message.get("text") or "").strip()
        if not question:
            send(dispatcher, replies.kb_answer_empty())
            return [SlotSet(OFFER_SLOT, False)]
        reported = (tracker.latest_message.get("intent") or {}).get("name") == "report_problem"
        return await answer(dispatcher, tracker, question, picked=picked, reported=reported)
