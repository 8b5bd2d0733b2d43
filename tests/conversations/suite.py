"""The conversation suite's format: YAML files of multi-turn conversations, each turn with what must happen.

One file per category and half: `dev/<category>.yml` (developed against) and `heldout/<category>.yml` (reported
apart, never tuned on). The split rule is fixed: within a category, conversations are numbered in the order they
were written; odd numbers are dev, even numbers are held out (`refunds-07` is dev, `refunds-08` held out).

```yaml
category: refunds
conversations:
  - id: refunds-01
    customer: cus_002          # optional: signed in as this demo customer (keepwell/demo_data.py, seed 7)
    smoke: true                # optional, dev only: one of the 30 that `make test` plays
    turns:
      - user: i was charged twice this month can i get my money back
        expect: {article: billing/refunds, section: Charged by mistake?}
      - click: Talk to a person    # press the button with this title in the last reply (sends its payload)
        expect: {person: handed_off}
```

`expect` holds what a customer (or the CSM reading the log) can check from outside; every key is optional:

- `article`: a help article (`<category>/<slug>`, or a list: all of them) cited in the reply's sources;
  `article_one_of`: a list, at least one cited; `no_article`: true, no help article cited.
- `stays_on`: a follow-up about this article ("still not working", "where?") is answered in its context: the reply
  cites it first, or cites nothing and offers a person or asks the customer a question; never a fresh guess.
- `section`: the section (its `##` heading) of the first expected article that answers the question.
- `action`: an action (or a list: all of them) the turn ran, from the message log's `actions`.
- `intent`: the intent the log records (or a list: any of them).
- `person`: `offered` (a person is offered, nobody is called yet), `handed_off` (a handoff is recorded this turn),
  `offered_or_handed_off`, or `none`. Without it, no handoff may be recorded this turn: hand off only on request
  or acceptance.
- `feedback`: `recorded` (this turn records product feedback). Without it, nothing may be recorded as feedback.
- `csm_alerts`: how many CSM alerts (churn moments) the conversation has after this turn.
- `mentions`: texts the reply must contain, case-insensitive; an item that is a list is satisfied by any of its
  texts. `not_mentions`: texts it must not contain.
- `no_fallback`: true, the reply is not an "I'm not sure" / "outside what I can help with" non-answer.

Every turn also checks that the assistant answered (not the "having trouble answering" notice).
"""

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

ROOT = Path(__file__).resolve().parent
HALVES: tuple[str, ...] = ("dev", "heldout")
CATEGORIES: tuple[str, ...] = (
    "typos",
    "run-on",
    "follow-up",
    "short-replies",
    "anger-sarcasm",
    "account",
    "onboarding",
    "how-to",
    "recommendations",
    "cancellation",
    "refunds",
    "out-of-scope",
    "small-talk",
    "feedback",
    "escalation",
)
SMOKE_SIZE = 30
_ID = re.compile(r"^(?P<category>[a-z-]+)-(?P<number>\d{2,3})$")
_ARTICLE = re.compile(r"^[a-z0-9-]+/[a-z0-9-]+$")


class SuiteError(ValueError):
    """A suite file does not follow the format; the message names the file and the conversation."""


def _as_list(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


class Expect(BaseModel):
    """What must happen in one turn (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    article: list[str] = []
    article_one_of: list[str] = []
    no_article: bool = False
    stays_on: str | None = None
    section: str | None = None
    action: list[str] = []
    intent: list[str] = []
    person: Literal["offered", "handed_off", "offered_or_handed_off", "none"] | None = None
    feedback: Literal["recorded"] | None = None
    csm_alerts: int | None = Field(default=None, ge=0)
    mentions: list[str | list[str]] = []
    not_mentions: list[str] = []
    no_fallback: bool = False

    @field_validator("article", "action", "intent", mode="before")
    @classmethod
    def _one_or_many(cls, value: str | list[str] | None) -> list[str]:
        return _as_list(value)

    @field_validator("article", "article_one_of", "stays_on")
    @classmethod
    def _article_ids(cls, value: list[str] | str | None) -> list[str] | str | None:
        for article in _as_list(value):
            if not _ARTICLE.match(article):
                raise ValueError(f"{article!r} is not an article id (<category>/<slug>)")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> "Expect":
        if self.section and not (self.article or self.article_one_of):
            raise ValueError("section needs article (the section is of the first expected article)")
        if self.no_article and (self.article or self.article_one_of or self.stays_on):
            raise ValueError("no_article contradicts article and stays_on")
        return self

    @property
    def section_article(self) -> str | None:
        """The article whose section `section` names."""
        return (self.article or self.article_one_of or [None])[0]


class Turn(BaseModel):
    """One customer message (typed, or a button pressed by its title) and what must happen."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    user: str | None = Field(default=None, min_length=1, max_length=2000)
    click: str | None = Field(default=None, min_length=1)
    expect: Expect = Expect()

    @model_validator(mode="after")
    def _one_input(self) -> "Turn":
        if (self.user is None) == (self.click is None):
            raise ValueError("a turn has exactly one of `user` (typed text) or `click` (a button's title)")
        return self

    @property
    def said(self) -> str:
        return self.user if self.user is not None else f"[clicks {self.click!r}]"


class Conversation(BaseModel):
    """A conversation of the suite; `category` and `half` come from its file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    customer: str | None = None
    smoke: bool = False
    note: str | None = None  # why the conversation is there (the trigger or behaviour it covers)
    turns: list[Turn] = Field(min_length=1)
    category: str = ""
    half: str = ""

    @property
    def number(self) -> int:
        match = _ID.match(self.id)
        return int(match["number"]) if match else 0


class _FileIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: str
    conversations: list[dict[str, object]] = Field(min_length=1)


def load_file(path: Path, half: str) -> list[Conversation]:
    """The conversations of one suite file.

    Raises:
        SuiteError: the file or a conversation does not follow the format, its category or id does not fit the
            file, or a conversation is in the wrong half.
    """
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        file = _FileIn.model_validate(raw)
    except (yaml.YAMLError, ValidationError) as error:
        raise SuiteError(f"{path}: {_describe(error)}") from error
    if file.category not in CATEGORIES:
        raise SuiteError(f"{path}: unknown category {file.category!r}; one of {', '.join(CATEGORIES)}")
    if path.stem != file.category:
        raise SuiteError(f"{path}: the file of category {file.category!r} must be named {file.category}.yml")
    conversations = []
    for index, item in enumerate(file.conversations):
        where = f"{path}: conversation {item.get('id', f'#{index + 1}')!s}"
        try:
            conversation = Conversation.model_validate({**item, "category": file.category, "half": half})
        except ValidationError as error:
            raise SuiteError(f"{where}: {_describe(error)}") from error
        match = _ID.match(conversation.id)
        if not match or match["category"] != file.category:
            raise SuiteError(f"{where}: ids are <category>-<number>, here {file.category}-NN")
        if half_of(conversation.number) != half:
            raise SuiteError(
                f"{where}: odd numbers are dev, even numbers held out; it belongs in {half_of(conversation.number)}/"
            )
        if conversation.smoke and half != "dev":
            raise SuiteError(f"{where}: the smoke subset comes from the dev half only (held-out is never tuned on)")
        conversations.append(conversation)
    return conversations


def _describe(error: yaml.YAMLError | ValidationError) -> str:
    """One line per problem: where in the conversation (turns.0.expect.artcle) and what is wrong."""
    if isinstance(error, yaml.YAMLError):
        return " ".join(str(error).split())
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())


def half_of(number: int) -> str:
    """The fixed split rule: odd-numbered conversations are dev, even-numbered ones held out."""
    return "dev" if number % 2 else "heldout"


def load_suite(root: Path = ROOT, halves: Iterable[str] = HALVES) -> list[Conversation]:
    """Every conversation of the chosen halves, in file order (halves, then categories as listed in CATEGORIES).

    Raises:
        SuiteError: a file does not follow the format, or an id appears twice.
    """
    conversations: list[Conversation] = []
    for half in halves:
        files = {path.stem: path for path in sorted((root / half).glob("*.yml"))}
        for unknown in sorted(set(files) - set(CATEGORIES)):
            raise SuiteError(f"{files[unknown]}: unknown category {unknown!r}")
        for category in CATEGORIES:
            if category in files:
                conversations.extend(load_file(files[category], half))
    seen: set[str] = set()
    for conversation in conversations:
        if conversation.id in seen:
            raise SuiteError(f"conversation id {conversation.id} appears twice")
        seen.add(conversation.id)
    return conversations


def smoke_subset(conversations: Iterable[Conversation]) -> list[Conversation]:
    """The conversations `make test` plays (flagged `smoke: true`)."""
    return [c for c in conversations if c.smoke]
