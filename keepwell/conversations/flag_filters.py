"""The flagged queue's filters: one reason, and "mine" (conversations of accounts the CSM owns, or handed to them),
read from a URL's query parameters like the inbox's, so a filtered queue is a link."""

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlencode

from keepwell import escalation
from keepwell.conversations.filters import InvalidFilter

ASSISTANT_UNAVAILABLE = "assistant_unavailable"
# Reasons stored as flags (by the assistant, or the redelivery path), then the ones computed from what is stored.
FLAG_REASONS = (
    escalation.CHURN_MOMENT,
    escalation.FRUSTRATION,
    escalation.REPEATED_QUESTION,
    escalation.UNHELPFUL_ANSWERS,
    escalation.AT_RISK_ACCOUNT,
    ASSISTANT_UNAVAILABLE,
)
NOT_UNDERSTOOD, NEGATIVE_FEEDBACK, HANDOFF, LOW_CSAT, RED_HEALTH = (
    "not_understood",
    "negative_feedback",
    "handoff",
    "low_csat",
    "red_health",
)
REASON_LABELS = {
    escalation.CHURN_MOMENT: "Churn moment",
    escalation.FRUSTRATION: escalation.REASON_LABELS[escalation.FRUSTRATION],
    escalation.REPEATED_QUESTION: escalation.REASON_LABELS[escalation.REPEATED_QUESTION],
    escalation.UNHELPFUL_ANSWERS: escalation.REASON_LABELS[escalation.UNHELPFUL_ANSWERS],
    escalation.AT_RISK_ACCOUNT: escalation.REASON_LABELS[escalation.AT_RISK_ACCOUNT],
    ASSISTANT_UNAVAILABLE: "Assistant unavailable",
    NOT_UNDERSTOOD: "Fallback or low confidence",
    NEGATIVE_FEEDBACK: "Negative feedback",
    HANDOFF: "Handed to a person",
    LOW_CSAT: "CSAT of 2 or less",
    RED_HEALTH: "Red account",
}
REASONS = tuple(REASON_LABELS)


@dataclass(frozen=True)
class QueueFilter:
    reason: str = ""  # one of REASONS; empty: every reason
    mine: bool = False  # accounts the signed-in CSM owns, or handoffs assigned to them

    def query_string(self) -> str:
        """The filters as a canonical query string (the queue's URL)."""
        pairs = [("reason", self.reason)] if self.reason else []
        return urlencode([*pairs, *([("mine", "1")] if self.mine else [])])


def parse(params: Iterable[tuple[str, str]]) -> QueueFilter:
    """The filter a URL's query parameters ask for; others (page) are ignored.

    Raises:
        InvalidFilter: an unknown reason or a `mine` other than 1, with the field named.
    """
    raw = {key: value.strip() for key, value in params if key in ("reason", "mine") and value.strip()}
    reason = raw.get("reason", "")
    if reason and reason not in REASONS:
        raise InvalidFilter(f"reason: one of {', '.join(REASONS)}")
    mine = raw.get("mine", "")
    if mine not in ("", "1"):
        raise InvalidFilter("mine: 1, or leave it out")
    return QueueFilter(reason, mine == "1")
