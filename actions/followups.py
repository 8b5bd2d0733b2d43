"""Follow-ups: a short message about the previous answer ("and how do I remove them?", "what about on mobile?",
"still not working") is read with the conversation's topic (the last article answered from), not as a fresh guess."""

import re
from collections.abc import Iterable
from typing import Any

from keepwell.text import content_words

# Set by every confident knowledge-base answer: the article the conversation is about; or, after the account's
# health, this marker, so that "why?" is answered with what drives the score.
TOPIC_SLOT = "topic_article"
ACCOUNT_HEALTH = "account:health"

_LEADS_ON = re.compile(
    r"^\s*(and|but|so|also|plus|then|ok(ay)?|no|nope|yes|yeah|what about|how about|what if|why|how come|is that|"
    r"does that|does it|"
    r"can it|will it|is it|it|that|this|those|these|they|them|same)\b",
    re.IGNORECASE,
)
# "there" points back ("can I do it there?") unless it only says something exists ("is there a mobile app?").
_POINTS_BACK = re.compile(
    r"\b(it|its|that|this( one)?|those|these|they|them|their|(?<!is )(?<!are )there|the same)\b"
    r"|\bthen\W*$",  # "what happens to our integrations then?": in that case
    re.IGNORECASE,
)
# A message with this many topic words or fewer says too little to stand on its own, unless it is a whole question
# ("how do I export my data?", "can I connect Slack?").
_TERSE = 2
_WHOLE_QUESTION = re.compile(
    r"^\s*(how (do|can|should|would) (i|we|you)|how to|can (i|we|you)|could (i|we)|is there|are there|"
    r"do you|does orbitly|where (do|can) (i|we)|what does|how much)\b",
    re.IGNORECASE,
)
_SELF_CONTAINED = 5


def is_follow_up(text: str) -> bool:
    """Whether a message leans on what came before: it opens like a continuation, says almost nothing new, or
    points back ("it", "that one") without naming much of its own."""
    words = content_words(text)
    if len(words) >= _SELF_CONTAINED:
        return False
    if _LEADS_ON.match(text) or _POINTS_BACK.search(text):
        return True
    return len(words) <= _TERSE and not _WHOLE_QUESTION.match(text)


_WHY = re.compile(
    r"^\s*(and |but |so )?(why|how come|what'?s (driving|behind|dragging|wrong)|what is (driving|behind)|explain)\b",
    re.IGNORECASE,
)


def asks_why(text: str) -> bool:
    """Whether a message asks for the reason behind the last answer ("why?", "how come", "what's dragging it down")."""
    return bool(_WHY.match(text))


# "what about growth?", "and on growth?", "and annual?": the question asked before, about something else; its
# section is chosen with that question, not with the bare words.
_ELLIPTICAL = re.compile(
    r"^\s*(?:and|or|what about|how about|same (?:for|with))\s+(?:(?:on|for|with|in|the)\s+)?"
    r"(?P<rest>[\w'-]+(?:\s+[\w'-]+)?)\s*[?.!]*\s*$",
    re.IGNORECASE,
)


def is_elliptical(text: str) -> bool:
    """Whether a follow-up only names what to ask the previous question about ("what about growth?")."""
    return bool(_ELLIPTICAL.match(text))


def topic_words(article_id: str) -> str:
    """The article's topic in words, from its id ("getting-started/invite-teammates" -> "invite teammates")."""
    return article_id.rsplit("/", 1)[-1].replace("-", " ")


def in_context(question: str, article_id: str, asked_before: str = "") -> str:
    """The question with the topic it leans on, for a search that needs both: the question asked before it (its
    words name what "it" and "then" point to: "how do i downgrade" + "what happens to salesforce then") and the
    topic's article."""
    return " ".join(filter(None, [asked_before, question, f"({topic_words(article_id)})"]))


def article_of(url: str) -> str | None:
    """The article id of a help-centre link ("/help/billing/add-ons#seats" -> "billing/add-ons"), else None."""
    parts = url.split("#", 1)[0].strip("/").split("/")
    return f"{parts[1]}/{parts[2]}" if len(parts) == 3 and parts[0] == "help" else None


def typed(event: dict[str, Any]) -> str:
    """What the customer typed in a tracker event: "" for any other event, an empty message or a button's payload."""
    text = (event.get("text") or "").strip() if event.get("event") == "user" else ""
    return "" if text.startswith("/") else text


def question_behind(events: Iterable[dict[str, Any]], article_id: str) -> str:
    """What the customer asked that the last answer from `article_id` answered ("how do i downgrade to starter"),
    or "" when no answer in `events` cites it. A button's payload is skipped for the words typed before it."""
    cited = False
    for event in reversed(list(events)):
        if not cited:
            sources = ((event.get("data") or {}).get("custom") or {}).get("sources") or []
            cited = event.get("event") == "bot" and any(article_of(s.get("url", "")) == article_id for s in sources)
        elif text := typed(event):
            return text
    return ""
