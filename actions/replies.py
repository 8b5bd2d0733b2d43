"""What the bot says: pure functions from service results to reply text, testable without Rasa."""

import json
import re
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Literal

from keepwell.accounts import Account
from keepwell.health import HealthScore
from keepwell.offer_catalogue import Offer
from keepwell.offers import OPEN_SIGNAL_REASON, Recommendation
from keepwell.onboarding import Checklist
from keepwell.segments import segment_of
from keepwell.text import content_words
from knowledge_base import Passage, SearchResult

HANDOFF_BUTTON = {"title": "Talk to a person", "payload": "/request_human"}
SIGN_IN_INVITATION = (
    "I can look at your account once you're signed in. Open this chat from inside Orbitly (the help button in "
    "the app) and ask me again — meanwhile I'm happy to answer product questions."
)
ANSWER_CHARS = 700
_MARKUP = re.compile(r"(\*\*|__|`)")
# Rasa's output channels split a text at every blank line into separate messages; one reply stays one message.
_BLANK_LINES = re.compile(r"\n\s*\n")


@dataclass
class Reply:
    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)
    sources: list[dict[str, str]] = field(default_factory=list)


def plain(markdown: str) -> str:
    """Markdown emphasis and blank lines removed: the widget shows bot text as plain text, one reply per message."""
    return _BLANK_LINES.sub("\n", _MARKUP.sub("", markdown)).strip()


def possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def excerpt(text: str, limit: int = ANSWER_CHARS) -> str:
    """The passage cut at a line or sentence end near `limit` characters."""
    text = plain(text)
    if len(text) <= limit:
        return text
    cut = text[:limit]
    end = max(cut.rfind("\n"), cut.rfind(". "))
    return (cut[: end + 1] if end > limit // 2 else cut).rstrip() + " …"


def _pick_button(passage: Passage) -> dict[str, str]:
    """A button that answers the question from this article instead (the payload names it)."""
    return {"title": passage.title, "payload": "/ask_faq" + json.dumps({"article_id": passage.article_id})}


def kb_answer(result: SearchResult, limit: int = ANSWER_CHARS) -> Reply:
    """The answering section under its heading, linked to its anchor on the help page; or "not sure", with a person.

    When another article answers about as well (`result.ambiguous`), the answer still comes first, the way a support
    agent answers the likelier reading, and the other article is one tap away.
    """
    if not result.confident or not result.passages:
        return Reply(
            text="I'm not sure about that one, and I'd rather not guess. Shall I get a person from our team?",
            buttons=[HANDOFF_BUTTON, {"title": "No thanks", "payload": "/deny"}],
        )
    best = result.passages[0]
    heading = best.title if best.section == best.title else f"{best.title} — {best.section}"
    text = f"{heading}\n{excerpt(best.text, limit)}"
    buttons = []
    if result.ambiguous and len(result.passages) > 1:
        other = result.passages[1]
        text += f"\nIf you meant “{other.title}” instead, tap it below."
        buttons.append(_pick_button(other))
    return Reply(
        text=text,
        buttons=buttons,
        sources=[{"title": heading, "url": best.section_url, "score": round(best.score, 4)}],
    )


def kb_answers(results: list[SearchResult]) -> list[Reply]:
    """Answers to the questions of a run-on message, one reply each and shorter, so together they read as one."""
    limit = ANSWER_CHARS // len(results) + 100 if results else ANSWER_CHARS
    return [kb_answer(replace(result, ambiguous=False), limit) for result in results]


def kb_missed(questions: list[str]) -> Reply:
    """The questions of a run-on message nothing answered, named, so none is dropped without a word."""
    quoted = " and ".join(f"“{q}”" for q in questions)
    return Reply(text=f"I couldn't find an answer to {quoted}. Could you ask it another way?")


def kb_not_sure(*, person_follows: bool) -> Reply:
    """Nothing confident found: say so rather than guess. A first miss asks the customer to put it another way;
    when an offer of a person follows (`actions/escalation.py`), it says only that it does not know."""
    if person_follows:
        return Reply(text="I'm not sure about that one, and I'd rather not guess.")
    return Reply(
        text=(
            "I'm not sure about that one, and I'd rather not guess. Could you tell me a bit more, or put it another "
            "way? You can also ask for a person at any time."
        )
    )


def still_broken(*, person_follows: bool) -> Reply:
    """The customer tried the answer and the problem is still there."""
    if person_follows:
        return Reply(text="I'm sorry it's still not working after that.")
    return Reply(
        text=(
            "I'm sorry it's still not working. What do you see: an error message, or the step where it stops? "
            "I'll look again, or you can ask for a person at any time."
        )
    )


def kb_answer_empty() -> Reply:
    return Reply(text="What would you like to know about Orbitly? Ask me in a sentence and I'll look it up.")


# What a customer can do about each measure that holds their health back (the "tips" disclosure and advice).
TIPS = {
    "login_frequency": "Make Orbitly part of the day: the daily digest and the mobile app bring people back.",
    "active_users": "Bring back the teammates who have a seat but haven't been active lately.",
    "seat_utilisation": "Invite teammates to the seats you already pay for.",
    "feature_adoption": "Try a key feature you haven't used yet, such as automations, reports or an integration.",
    "support_load": "The help centre's troubleshooting guides often fix an issue faster than a ticket.",
    "csat": "Tell us what would make Orbitly better for you: just say it here.",
    "nps": "Tell us what would make Orbitly better for you: just say it here.",
    "days_to_renewal": "Review your plan before it renews, so it fits how your team works.",
    "billing_state": "Update your payment details under Settings → Billing to keep your subscription current.",
    "onboarding_progress": "Finish your Getting started checklist: ask me “what should we do next?”.",
}
Disclosure = Literal["full", "band", "tips"]
_TRENDS = {"up": "improving", "down": "slipping", "flat": "steady"}


def _trend_words(health: HealthScore, *, with_numbers: bool) -> str:
    if health.trend is None:
        return ""
    if with_numbers and health.previous_score is not None and health.trend != "flat":
        return f", {health.trend} from {health.previous_score} at the last check"
    return f", {_TRENDS[health.trend]} since the last check"


def _tips(health: HealthScore) -> list[str]:
    # Two measures can share a tip (CSAT and NPS): each tip once, strongest drag first.
    tips = [TIPS[d.measure] for d in health.drags if d.measure in TIPS]
    return list(dict.fromkeys(tips))[:DRIVER_TIPS]


DRIVER_TIPS = 3

# The words customers use for each measure: a health question that names one ("how's our adoption looking", "what's
# our nps") is answered with that measure's fact, whether or not it is among the top drivers.
MEASURE_WORDS = {
    "login_frequency": frozenset("login logins logging log".split()),
    "active_users": frozenset("active users people".split()),
    "seat_utilisation": frozenset("seat seats licenses license utilisation utilization".split()),
    "feature_adoption": frozenset("adoption features feature".split()),
    "support_load": frozenset("tickets ticket support".split()),
    "csat": frozenset("csat satisfaction satisfied".split()),
    "nps": frozenset("nps recommend promoter promoters".split()),
    "days_to_renewal": frozenset("renewal renew renews".split()),
    "billing_state": frozenset("payment payments invoices".split()),
    "onboarding_progress": frozenset("onboarding checklist".split()),
}


def asked_measures(health: HealthScore, question: str, told: frozenset[str] = frozenset()) -> list[str]:
    """The facts of the measures a question names, as lines ("Feature adoption: 43% of the key features in use."),
    except the measures in `told` (the drivers the answer gives anyway)."""
    words = content_words(question)
    return [
        f"{c.label[:1].upper()}{c.label[1:]}: {c.text or c.label}."
        for c in health.components
        if c.name not in told and MEASURE_WORDS.get(c.name, frozenset()) & words
    ]


def account_health(account: Account, health: HealthScore, disclosure: Disclosure = "full", question: str = "") -> Reply:
    """The account's health: band, trend, the facts of any measure the question names, and the top drivers in plain
    words, as much as the company shows."""
    buttons = [{"title": "Recommendations", "payload": "/ask_recommendations"}]
    if disclosure == "tips":
        tips = _tips(health)
        if not tips:
            return Reply(
                text=f"{account.name} is making good use of Orbitly: nothing to improve right now.", buttons=buttons
            )
        lines = "\n".join(f"• {tip}" for tip in tips)
        return Reply(text=f"Here's what would help {account.name} get more from Orbitly:\n{lines}", buttons=buttons)
    numbers = disclosure == "full"
    head = (
        f"{possessive(account.name)} health score is {health.score}/100 ({health.band})"
        if numbers
        else f"{possessive(account.name)} account health is {health.band}"
    )
    shown = list(health.drivers)
    # The strongest drag is always worth knowing, even when three lifts outweigh it.
    if health.drags and health.drags[0] not in shown:
        shown.append(health.drags[0])
    lifts = [d.text or d.label for d in shown if d.direction == "up"]
    drags = [d.text or d.label for d in shown if d.direction == "down"]
    asked = asked_measures(health, question, frozenset(d.measure for d in shown))
    lines = [f"{head}{_trend_words(health, with_numbers=numbers)}.", *asked]
    if lifts:
        lines.append(f"▲ Helping: {'; '.join(lifts)}.")
    if drags:
        lines.append(f"▼ Holding it back: {'; '.join(drags)}.")
    lines.append(
        {
            "green": "You're in great shape — keep it up.",
            "yellow": "There's room to grow; ask me for recommendations to see what would help most.",
            "red": "Your account needs attention. I can get your customer success manager to help you get back on "
            "track.",
        }[health.band]
    )
    if health.band == "red":
        buttons = [HANDOFF_BUTTON]
    return Reply(text="\n".join(lines), buttons=buttons)


def health_explained(account: Account, health: HealthScore, disclosure: Disclosure = "full") -> Reply:
    """Why the score is what it is: every measure, weakest first, and the one that would lift it most."""
    buttons = [{"title": "Recommendations", "payload": "/ask_recommendations"}]
    if not health.components:
        return Reply(text=f"There's no usage data for {account.name} yet, so the score stays neutral until there is.")
    if disclosure == "tips":
        return account_health(account, health, "tips")
    weakest = sorted(health.components, key=lambda c: c.value)
    numbers = disclosure == "full"
    lines = "\n".join(
        f"{'▼' if c.value < 50 else '▲'} {c.label}: {c.text or c.label}"
        + (f" ({round(c.value)}/100)" if numbers else "")
        for c in weakest
    )
    head = (
        f"{possessive(account.name)} score is {health.score}/100 ({health.band})"
        if numbers
        else (f"{possessive(account.name)} health is {health.band}")
    )
    return Reply(
        text=f"{head}. Each measure, weakest first:\n{lines}\n"
        f"The biggest lift would come from {weakest[0].label.lower()}.",
        buttons=buttons,
    )


def next_step(account: Account, checklist: Checklist) -> Reply:
    """The next step of the account's onboarding checklist, with its manual page."""
    step = checklist.next
    if step is None:
        return Reply(
            text=f"{account.name} has finished the Getting started checklist ({checklist.done} of {checklist.total})."
        )
    text = f"Next on your Getting started checklist ({checklist.done} of {checklist.total} done): {step.title}."
    sources = []
    if step.help_url:
        text += f" Here's how: {step.help_url}"
        sources.append({"title": step.title, "url": step.help_url})
    return Reply(text=text, sources=sources, buttons=[{"title": "Recommendations", "payload": "/ask_recommendations"}])


def plan_and_renewal(account: Account, today: date) -> Reply:
    days = account.days_to_renewal(today)
    when = "today" if days == 0 else (f"in {days} days" if days > 0 else f"{-days} days ago")
    return Reply(
        text=(
            f"{account.name} is on the {account.plan.title()} plan ({segment_of(account).label}), "
            f"using {account.seats_used} of {account.seats_purchased} seats. "
            f"Your subscription is ${account.mrr:,.0f} a month and renews on {account.renewal_date:%d %B %Y} ({when})."
        ),
        sources=[{"title": "Plans compared", "url": "/help/billing/plans-compared"}],
    )


def offer_button(offer: Offer, step: str = "offer_id") -> dict[str, str]:
    """A button naming an offer: "offer_id" opens it (a click in the funnel), "offer_accepted" says yes to it."""
    title = offer.title if step == "offer_id" else "Yes, set this up for us"
    return {"title": title, "payload": "/ask_recommendations" + json.dumps({step: offer.id})}


def recommendations(recommendation: Recommendation) -> Reply:
    if not recommendation.offers and recommendation.reason == OPEN_SIGNAL_REASON:
        return Reply(text=recommendation.reason, buttons=[HANDOFF_BUTTON])  # it says why there is nothing
    if not recommendation.offers:
        return Reply(text=f"{recommendation.reason} Nothing else to suggest right now.", buttons=[HANDOFF_BUTTON])
    lines = "\n".join(
        f"• {o.title}: {o.pitch}" + (f" Why it fits: {why}" if (why := recommendation.why.get(o.id)) else "")
        for o in recommendation.offers
    )
    return Reply(
        text=f"{recommendation.reason}\n{lines}",
        sources=[{"title": o.title, "url": o.url} for o in recommendation.offers],
        buttons=[*(offer_button(o) for o in recommendation.offers), HANDOFF_BUTTON],
    )


def offer_detail(offer: Offer, why: str) -> Reply:
    """One offer the customer tapped: what it is, why it fits them, and a yes."""
    return Reply(
        text=(
            f"{offer.title}\n{offer.pitch}\nWhy it fits: {why}\nShall I ask your customer success manager to set it up?"
        ),
        sources=[{"title": offer.title, "url": offer.url}],
        buttons=[offer_button(offer, "offer_accepted"), HANDOFF_BUTTON],
    )


def offer_accepted(offer: Offer, *, recorded: bool) -> Reply:
    if not recorded:  # a button for an offer this account was never shown
        return Reply(text="I can't find that suggestion for your account. Ask me for recommendations to see what fits.")
    return Reply(
        text=(
            f"Done: I've told your customer success manager you'd like {offer.title}. "
            "They'll be in touch to set it up with you."
        ),
        sources=[{"title": offer.title, "url": offer.url}],
    )


HANDOFF_CONFIRMATION = (
    "I've asked a customer success manager to join this conversation; they'll reply right here. "
    "Until they do, I'll stay out of the way."
)
FEEDBACK_THANKS = "Thank you — I've passed your feedback to the product team."
ACCOUNT_NOT_FOUND = "I couldn't find your account details. Shall I get a person to look into it?"
