"""What a turn must show, checked on what can be seen from outside: the replies, the message log, the records."""

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from tests.conversations.suite import Expect

NOTICE_PREFIX = "I'm having trouble answering right now"
HANDOFF_PAYLOAD = "/request_human"
# A non-answer: the knowledge base's "I'm not sure", the out-of-scope refusal, or a plain "I don't know".
_FALLBACK = re.compile(
    r"\bnot sure\b|rather not guess|outside what I can help|\bI (?:don't|do not) know\b|couldn't find an answer",
    re.IGNORECASE,
)
# A person offered in words (besides the "Talk to a person" button): "shall I get a person", "connect you with ...".
_PERSON = r"(?:person|human|someone from our team|one of (?:us|our team)|(?:customer )?success (?:manager|team)|CSM\b)"
_BRING = r"(?:get|bring in|loop in|connect you (?:with|to)|put you in touch with|hand (?:you )?over to)"
_OFFER = re.compile(
    rf"\b{_BRING}\b[^.?!\n]{{0,40}}{_PERSON}|\b(?:talk|speak|chat) (?:to|with)\b[^.?!\n]{{0,25}}{_PERSON}",
    re.IGNORECASE,
)


@dataclass
class Observation:
    """Everything seen of one turn.

    `replies`: the answer's messages as the widget gets them (role, text, buttons, sources); `intent` and `actions`
    from the message log (None: never annotated); `handoffs` and `feedback`: records created during the turn;
    `csm_alerts`: CSM alerts of the conversation after the turn.
    """

    status: int
    replies: list[dict[str, Any]] = field(default_factory=list)
    intent: str | None = None
    confidence: float | None = None
    actions: list[str] | None = None
    handoffs: int = 0
    feedback: list[str] = field(default_factory=list)
    csm_alerts: int = 0
    late: bool = False
    error: str | None = None

    @property
    def text(self) -> str:
        return "\n".join(str(r.get("text") or "") for r in self.replies)

    @property
    def sources(self) -> list[dict[str, Any]]:
        return [s for r in self.replies for s in r.get("sources") or []]

    @property
    def buttons(self) -> list[dict[str, str]]:
        return [b for r in self.replies for b in r.get("buttons") or []]

    def cited_articles(self) -> list[str]:
        """The help articles cited, as `<category>/<slug>`, in order."""
        cited = []
        for source in self.sources:
            path = urlsplit(str(source.get("url") or "")).path
            if path.startswith("/help/") and (article := path.removeprefix("/help/").strip("/")) not in cited:
                cited.append(article)
        return cited

    def person_offered(self) -> bool:
        return any(str(b.get("payload", "")).startswith(HANDOFF_PAYLOAD) for b in self.buttons) or bool(
            _OFFER.search(self.text)
        )

    def is_fallback(self) -> bool:
        return bool(_FALLBACK.search(self.text))

    def answered(self) -> bool:
        return any(
            r.get("role") != "system" or not str(r.get("text", "")).startswith(NOTICE_PREFIX) for r in self.replies
        )


@dataclass(frozen=True)
class Failure:
    """One check a turn did not pass: its kind (the expectation's key), what was expected and what came."""

    kind: str
    expected: str
    got: str

    def __str__(self) -> str:
        return f"{self.kind}: expected {self.expected}; got {self.got}"


def _anchor(heading: str) -> str:
    """A heading's fragment on the help page: lower-case words joined by hyphens, apostrophes dropped."""
    return re.sub(r"[^a-z0-9]+", "-", re.sub(r"['’]", "", heading.lower())).strip("-")


def _section_cited(observation: Observation, article: str, section: str) -> bool:
    """The section is cited: a source of the article links to its anchor or names it, or the reply heads its
    quote with it ("Article title — Section")."""
    anchor = _anchor(section)
    for source in observation.sources:
        parts = urlsplit(str(source.get("url") or ""))
        if parts.path.removeprefix("/help/").strip("/") != article:
            continue
        if parts.fragment and re.fullmatch(rf"{re.escape(anchor)}(?:-\d+)?", parts.fragment):
            return True
        if str(source.get("section") or "").strip().lower() == section.strip().lower():
            return True
    heading = re.compile(rf"—\s*{re.escape(section.strip())}\s*$", re.IGNORECASE | re.MULTILINE)
    return bool(heading.search(observation.text))


def _stays_on(observation: Observation, article: str, cited: list[str]) -> bool:
    if cited:
        return cited[0] == article
    return observation.person_offered() or "?" in observation.text


def _snippet(text: str, limit: int = 90) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= limit else flat[: limit - 1] + "…")


def check(expect: Expect, observation: Observation) -> list[Failure]:
    """Every expectation of the turn that the observation does not meet (empty: the turn passes)."""
    if observation.error is not None:
        return [Failure("answered", "an answer", observation.error)]
    failures: list[Failure] = []
    if not observation.answered():
        failures.append(Failure("answered", "the assistant's answer", f"only {_snippet(observation.text)}"))
    cited = observation.cited_articles()
    cited_text = ", ".join(cited) or "no article"
    for article in expect.article:
        if article not in cited:
            failures.append(Failure("article", article, f"{cited_text} {_snippet(observation.text, 60)}"))
    if expect.article_one_of and not set(expect.article_one_of) & set(cited):
        failures.append(Failure("article", " or ".join(expect.article_one_of), cited_text))
    if expect.no_article and cited:
        failures.append(Failure("no_article", "no help article cited", cited_text))
    if expect.stays_on and not _stays_on(observation, expect.stays_on, cited):
        failures.append(
            Failure("context", f"stays on {expect.stays_on}", f"{cited_text} {_snippet(observation.text, 60)}")
        )
    if expect.section and (article := expect.section_article) in cited:
        if not _section_cited(observation, article, expect.section):
            got = [s.get("url") for s in observation.sources]
            failures.append(
                Failure("section", f"{article} § {expect.section}", f"{got} {_snippet(observation.text, 60)}")
            )
    actions = observation.actions or []
    for action in expect.action:
        if action not in actions:
            failures.append(Failure("action", action, str(observation.actions)))
    if expect.intent and observation.intent not in expect.intent:
        failures.append(
            Failure("intent", " or ".join(expect.intent), f"{observation.intent} ({observation.confidence})")
        )
    failures += _person(expect, observation)
    if expect.feedback == "recorded" and not observation.feedback:
        failures.append(Failure("feedback", "feedback recorded", f"nothing recorded; intent {observation.intent}"))
    if expect.feedback is None and observation.feedback:
        failures.append(Failure("false_feedback", "nothing recorded as feedback", f"recorded {observation.feedback}"))
    if expect.csm_alerts is not None and observation.csm_alerts != expect.csm_alerts:
        failures.append(Failure("csm_alert", f"{expect.csm_alerts} CSM alert(s)", str(observation.csm_alerts)))
    lowered = observation.text.lower()
    for item in expect.mentions:
        options = [item] if isinstance(item, str) else item
        if not any(option.lower() in lowered for option in options):
            failures.append(Failure("mentions", " or ".join(map(repr, options)), _snippet(observation.text)))
    for text in expect.not_mentions:
        if text.lower() in lowered:
            failures.append(Failure("not_mentions", f"no {text!r}", _snippet(observation.text)))
    if expect.no_fallback and observation.is_fallback():
        failures.append(Failure("fallback", "an answer, not a fallback", _snippet(observation.text)))
    return failures


def _person(expect: Expect, observation: Observation) -> list[Failure]:
    offered, handed = observation.person_offered(), observation.handoffs > 0
    got = "handed off" if handed else ("offered" if offered else "no person offered")
    wanted = expect.person
    if wanted == "offered" and (handed or not offered):
        return [Failure("person", "a person offered (not yet handed off)", f"{got} {_snippet(observation.text, 60)}")]
    if wanted == "handed_off" and not handed:
        return [Failure("person", "handed off", f"{got} {_snippet(observation.text, 60)}")]
    if wanted == "offered_or_handed_off" and not (offered or handed):
        return [Failure("person", "a person offered or handed off", f"{got} {_snippet(observation.text, 60)}")]
    if wanted == "none" and (offered or handed):
        return [Failure("person", "no person offered", got)]
    if wanted is None and handed:
        return [Failure("unasked_handoff", "no handoff without a request or acceptance", got)]
    return []
