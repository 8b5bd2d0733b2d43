"""When the assistant should offer a person, the way the best support agents do: clearly, for a reason, and without
nagging (never twice in a row, never after a "no").

The triggers: the customer is frustrated or angry; asks the same thing again; got two unhelpful answers in a row
(or one, for an account at risk: red health or high value); reports a problem, or that it is still there after the
answer; says something that puts the account at risk (a churn moment). An explicit request for a person is not an
offer: the rules hand over at once. Pure functions over the conversation so far, so they are tested without Rasa;
`actions/escalation.py` reads them off the tracker.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass

from keepwell.accounts import Account
from keepwell.health import HealthScore
from keepwell.text import content_words, plain_quotes

FRUSTRATION = "frustration"
REPEATED_QUESTION = "repeated_question"
UNHELPFUL_ANSWERS = "unhelpful_answers"
AT_RISK_ACCOUNT = "at_risk_account"
CHURN_MOMENT = "churn_moment"
PROBLEM_REPORTED = "problem_reported"
STILL_BROKEN = "still_broken"

# What the console and the offer say for each reason.
REASON_LABELS = {
    FRUSTRATION: "Frustrated customer",
    REPEATED_QUESTION: "Asked the same question again",
    UNHELPFUL_ANSWERS: "Two unhelpful answers in a row",
    AT_RISK_ACCOUNT: "Unhelpful answer to an at-risk account",
    CHURN_MOMENT: "Churn moment (cancel, downgrade or refund)",
    PROBLEM_REPORTED: "Reported a problem",
    STILL_BROKEN: "Still not working after the answer",
}

# What the assistant flags for the CSMs when it notices it, whether or not a person is offered (the customer may have
# declined one, or been offered one a turn ago). A churn moment is flagged by actions/churn.py with the account's
# words; a reported problem is routine support, and "still not working" after the answer is recorded as negative
# feedback on that answer (keepwell.feedback), not as a flag.
FLAGGED = frozenset({FRUSTRATION, REPEATED_QUESTION, UNHELPFUL_ANSWERS, AT_RISK_ACCOUNT})

# A signed-in account at or above this monthly revenue is high value (the demo book's top fifth, Enterprise-sized):
# a person is offered after one miss.
HIGH_VALUE_MRR = 10_000.0
# Two messages whose content words overlap this much (Jaccard) ask the same thing.
SAME_QUESTION_OVERLAP = 0.6
_MIN_CONTENT_WORDS = 2

# Anger and frustration as customers write them to support, sarcasm included. Plain negative words are not enough
# ("I can't log in" is a problem, not anger); these are the phrases people use when they have lost patience.
_FRUSTRATED = re.compile(
    r"\b("
    r"useless|pointless|ridiculous|absurd|unacceptable|pathetic|terrible|horrible|awful|worst|garbage|"
    r"rubbish|crap|crappy|sucks?|joke|wtf|ffs|omfg|damn|hell|"
    r"fed up|sick of|tired of|had enough|losing my mind|lost my patience|"
    r"frustrat\w*|(i'?m|so|really|very|extremely|getting) annoy\w*|angry|furious|pissed|livid|disappointed|upset|"
    r"waste of (my |our )?(time|money)|wasting (my |our )?time|"
    r"(that|this|it) (doesn'?t|does not|didn'?t|did not) help|you (don'?t|do not|didn'?t|did not|never) "
    r"(help|listen|understand|get it)|not helpful|unhelpful|"
    r"thanks for nothing|great,? just great|just (great|perfect|wonderful|brilliant)|"
    r"oh,? (great|fantastic|wonderful|perfect|brilliant|lovely|joy)|love that for me|yeah,? right|wow,? thanks a lot|"
    r"seriously|are you (kidding|serious)|kidding me|you'?re kidding|"
    r"wow,? (great|just great|amazing|brilliant|perfect|fantastic)|i'?m (so )?done with|"
    # Paying and still waiting: "we pay you thousands a month and the boards take forever".
    r"(takes?|taking|took) (forever|ages)|(we|i) pay (you )?(thousands|hundreds|so much|a fortune|good money)|"
    r"what (am i|are we) (even )?paying (you )?for|"
    r"(third|3rd|fourth|4th|fifth|5th|tenth) time|again and again|over and over|every single time|"
    r"(broken|down|waiting|not working|stuck) (for|since) (days|weeks|hours|yesterday|last week|monday|tuesday|"
    r"wednesday|thursday|friday)|"
    r"never (works?|working)|still (not|broken|failing|crashing|doesn'?t|isn'?t|won'?t)|keeps? (failing|crashing)"
    r")\b",
    re.IGNORECASE,
)
_SHOUTED_WORD = re.compile(r"\b[A-Z]{3,}\b")
_NOT_SHOUTING = frozenset(
    "SSO SAML SCIM CSV PDF API URL MFA VAT USD EUR GDPR JSON XLSX CRM SLA SMS HTML OKR OKRS KPI ICS IOS".split()
)


# Words that only say something is still wrong ("still not working", "didn't help", "same problem"): a follow-up
# made of these adds no detail to search with.
_STILL_WRONG = frozenset(
    "working work works worked help helped helping nothing broken fixed fix happening happens slow missing same "
    "issue issues problem problems error errors luck change changed difference didn't doesn't isn't wasn't nope "
    "yet anything at all don't can't won't aren't wasn't didnt doesnt isnt dont cant wont "
    # The states a broken feature is reported in, none of which names what is broken.
    "run running runs load loading loads sync syncing syncs fail failing fails failed stuck crash crashing crashes "
    "crashed show showing shows appear appearing appears update updating updates open opening opens send sending "
    "sends post posting posts arrive arriving save saving saves go going keep keeps tried try trying".split()
)


# The failure itself must be said: a negation or a failure word. "still" or "keeps" alone is not a complaint
# ("does it still run?", "keep going").
_FAILS = re.compile(
    r"\b(not|nothing|no luck|same (issue|problem|error|thing)|broken|missing|slow|fail\w*|crash\w*|stuck|\w+n't|"
    r"(do|does|did|is|was|ca|wo)nt)\b",
    re.I,
)
# A question about the feature ("will it still show up?") is a follow-up to answer, not a report that it fails.
_ASKS = re.compile(r"^\s*(does|do|did|will|would|is|are|can|could|should|when|how|what|where|why)\b", re.I)
_NEGATION = re.compile(r"\b(not|\w+n't)\b", re.I)


def only_says_it_still_fails(text: str) -> bool:
    """Whether a message only says the problem is still there ("still not working", "didn't help", "same issue"),
    with no new detail to search with."""
    text = plain_quotes(text)
    if _ASKS.match(text) and not _NEGATION.search(text):
        return False
    return bool(_FAILS.search(text)) and not (content_words(text) - _STILL_WRONG)


@dataclass(frozen=True)
class Turn:
    """One customer message of the conversation and how the assistant did on it."""

    text: str
    intent: str | None = None
    unhelpful: bool = False  # the assistant could not answer it (not sure, fallback, nothing found)


def is_frustrated(text: str) -> bool:
    """Whether a message shows anger or lost patience: the phrases above, shouting, or a run of !/?."""
    text = plain_quotes(text)
    if _FRUSTRATED.search(text):
        return True
    shouted = [word for word in _SHOUTED_WORD.findall(text) if word not in _NOT_SHOUTING]
    return len(shouted) >= 2 or "!!" in text or "?!" in text or "!?" in text


def same_question(a: str, b: str) -> bool:
    """Whether two messages ask the same thing, by the overlap of their topic words."""
    words_a, words_b = content_words(a), content_words(b)
    if min(len(words_a), len(words_b)) < _MIN_CONTENT_WORDS:
        return False
    return len(words_a & words_b) / len(words_a | words_b) >= SAME_QUESTION_OVERLAP


def is_at_risk(account: Account | None, health: HealthScore | None) -> bool:
    """A signed-in account the company cannot afford to leave unhelped: red health or high monthly revenue."""
    if account is None:
        return False
    return (health is not None and health.band == "red") or account.mrr >= HIGH_VALUE_MRR


def offer_reason(earlier: Sequence[Turn], current: Turn, *, already_offered: bool, at_risk: bool) -> str | None:
    """Why a person should be offered after the assistant's answer to `current`, or None.

    Args:
        earlier: the conversation's earlier customer messages, oldest first.
        current: the message being answered, with whether the answer helped.
        already_offered: a person was offered on the previous turn, or the customer declined one: never nag.
        at_risk: the signed-in account is at risk (`is_at_risk`): a person after one unhelpful answer.
    """
    if already_offered:
        return None
    if is_frustrated(current.text):
        return FRUSTRATION
    if any(same_question(current.text, turn.text) for turn in earlier):
        return REPEATED_QUESTION
    if current.unhelpful and earlier and earlier[-1].unhelpful:
        return UNHELPFUL_ANSWERS
    if current.unhelpful and at_risk:
        return AT_RISK_ACCOUNT
    return None
