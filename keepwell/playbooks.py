"""Playbooks: when something happens to an account, raise a task for its CSM and tell other systems by webhook.

The playbooks live in `playbooks.yml` beside this module (or `KEEPWELL_PLAYBOOKS_FILE`); its header documents the
format. Triggers, evaluated on day `today`:

- `turned_red`: the account's latest health snapshot is red and the one before it was not;
- `signal_opened`: the account has an open churn signal (of the listed kinds, or any);
- `renewal_within`: the renewal date is 0 to `days` days away.

Actions: `create_task` (a CSM task for the account's owner) and `webhook` (a signed JSON post, see
`keepwell.webhooks`). Each event has a key (playbook, account, and what fired it: the snapshot's day, the signal's
id, the renewal date), stored on the task (`source_key`) and the delivery (`event_key`), so running again adds
nothing: an account that stays red gets one task, not one a day; a new renewal date is a new event.
"""

import logging
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from keepwell import signals, webhooks
from keepwell.models import ChurnSignal, CSMTask, CSMUser, Customer, HealthSnapshot, WebhookDelivery, utcnow
from keepwell.settings import CoreSettings, get_core_settings
from keepwell.signal_inputs import latest_health

logger = logging.getLogger(__name__)

DEFAULT_PLAYBOOKS_PATH = Path(__file__).resolve().with_name("playbooks.yml")
# What a task's title and detail may say, as {name}.
TEMPLATE_FIELDS = frozenset(
    "account_name account_id plan mrr band score renewal_date days_to_renewal signal evidence".split()
)
KEY_PREFIX = "playbook:"  # of every task and delivery key a playbook raises
_KEY_CHUNK = 500  # keys per IN (...) when looking for tasks and deliveries already raised


class PlaybookError(ValueError):
    """The playbooks file is missing, unreadable, not YAML, or breaks a rule; the message names file and line."""


# --- the YAML file ----------------------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class TurnedRed(_Strict):
    type: Literal["turned_red"]


class SignalOpened(_Strict):
    type: Literal["signal_opened"]
    signals: tuple[str, ...] | None = None  # None: any kind

    @field_validator("signals")
    @classmethod
    def _known(cls, v: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if v is not None:
            unknown = [kind for kind in v if kind not in signals.KINDS]
            if unknown or not v:
                raise ValueError(f"unknown signal kinds {unknown}; known: {list(signals.KINDS)}")
        return v


class RenewalWithin(_Strict):
    type: Literal["renewal_within"]
    days: int = Field(ge=1, le=365)


class CreateTask(_Strict):
    type: Literal["create_task"]
    title: str = Field(min_length=1, max_length=200)
    detail: str = Field(default="", max_length=2000)
    due_in_days: int = Field(default=3, ge=0, le=90)

    @field_validator("title", "detail")
    @classmethod
    def _template(cls, v: str) -> str:
        try:
            names = {name for _text, name, _spec, _conv in string.Formatter().parse(v) if name is not None}
        except ValueError as exc:
            raise ValueError(f"bad template {v!r}: {exc}") from exc
        unknown = sorted(names - TEMPLATE_FIELDS)
        if unknown:
            raise ValueError(f"unknown template fields {unknown}; known: {sorted(TEMPLATE_FIELDS)}")
        return v


class Webhook(_Strict):
    type: Literal["webhook"]
    url: str | None = Field(default=None, pattern=r"^https?://\S+$", max_length=500)  # None: KEEPWELL_WEBHOOK_URL


Trigger = Annotated[TurnedRed | SignalOpened | RenewalWithin, Field(discriminator="type")]
Action = Annotated[CreateTask | Webhook, Field(discriminator="type")]


class Playbook(_Strict):
    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=40)
    description: str = ""
    enabled: bool = True
    trigger: Trigger
    actions: tuple[Action, ...] = Field(min_length=1)


class Playbooks(_Strict):
    playbooks: tuple[Playbook, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> "Playbooks":
        ids = [playbook.id for playbook in self.playbooks]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate playbook ids {duplicates}")
        return self


def load(path: Path | str | None = None) -> Playbooks:
    """Read and validate a playbooks file (default: `KEEPWELL_PLAYBOOKS_FILE`, else the bundled one).

    Raises:
        PlaybookError: naming the file, the line and the playbook of every problem.
    """
    path = Path(path or get_core_settings().playbooks_file or DEFAULT_PLAYBOOKS_PATH)
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text)
        raw = yaml.safe_load(text)
    except OSError as exc:
        raise PlaybookError(f"cannot read playbooks file {path}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise PlaybookError(f"playbooks file {path} is not valid YAML: {exc}") from exc
    try:
        return Playbooks.model_validate(raw)
    except ValidationError as exc:
        problems = "\n".join(_describe(item, node, raw, path) for item in exc.errors())
        raise PlaybookError(f"invalid playbooks file {path}:\n{problems}") from exc


def _describe(item: Any, node: yaml.Node | None, raw: Any, path: Path) -> str:
    loc = list(item["loc"])
    where = ".".join(str(part) for part in loc) or "top level"
    if len(loc) >= 2 and loc[0] == "playbooks" and isinstance(loc[1], int):
        entry = raw["playbooks"][loc[1]] if isinstance(raw, dict) else None
        playbook_id = entry.get("id") if isinstance(entry, dict) else None
        rest = ".".join(str(part) for part in loc[2:])
        where = f"playbook #{loc[1] + 1}" + (f" ({playbook_id})" if playbook_id else "") + (f" {rest}" if rest else "")
    message = str(item["msg"]).removeprefix("Value error, ")
    return f"  - {path}:{_line_of(node, loc)}: {where}: {message}"


def _line_of(node: yaml.Node | None, loc: Sequence[Any]) -> int:
    """The line of the deepest YAML node along an error's location (parts that are not keys, such as a union's
    tag, are skipped)."""
    if node is None:
        return 1
    line = node.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((value for key, value in node.value if key.value == part), None)
            if match is None:
                continue
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
        else:
            continue
        line = node.start_mark.line + 1
    return line


# --- running ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """One trigger firing for one account."""

    playbook: Playbook
    account_id: str
    key: str  # "<playbook>:<account>:<what fired it>"
    signal: ChurnSignal | None = None


@dataclass
class RunSummary:
    events: int = 0
    tasks_created: int = 0
    deliveries_created: int = 0
    calls: webhooks.DeliveryStats = field(default_factory=webhooks.DeliveryStats)

    def __str__(self) -> str:
        w = self.calls
        return (
            f"playbooks: {self.events} events, {self.tasks_created} tasks created, {self.deliveries_created} "
            f"webhook calls queued; {w.delivered} delivered, {w.failed} failed, {w.waiting} waiting"
        )


def run(
    session: Session,
    today: date,
    config: Playbooks | None = None,
    settings: CoreSettings | None = None,
    policy: webhooks.WebhookPolicy | None = None,
) -> RunSummary:
    """Fire every enabled playbook for every account, then send the webhook calls not delivered yet.

    Commits: the tasks and queued calls are committed before any webhook is called, so no transaction is held
    across network waits and a crash leaves the calls queued for the next run.
    """
    config = config or load()
    settings = settings or get_core_settings()
    events = [event for playbook in config.playbooks if playbook.enabled for event in _fire(session, playbook, today)]
    summary = RunSummary(events=len(events))
    if events:
        _act(session, events, today, settings, summary)
    session.commit()
    # The playbooks' own calls only: handoff notifications have the gateway's sender and its retry rules.
    summary.calls = webhooks.deliver(
        session, webhooks.due(session, KEY_PREFIX), policy or webhooks.WebhookPolicy.from_settings(settings)
    )
    return summary


def _fire(session: Session, playbook: Playbook, today: date) -> list[Event]:
    trigger = playbook.trigger
    if isinstance(trigger, TurnedRed):
        rank = (
            func.row_number()
            .over(partition_by=HealthSnapshot.account_id, order_by=HealthSnapshot.as_of.desc())
            .label("rank")
        )
        ranked = (
            select(HealthSnapshot.account_id, HealthSnapshot.as_of, HealthSnapshot.band, rank)
            .where(HealthSnapshot.as_of <= today)
            .subquery()
        )
        latest: dict[str, tuple[date, str]] = {}
        previous: dict[str, str] = {}
        for account_id, as_of, band, position in session.execute(select(ranked).where(ranked.c.rank <= 2)):
            if position == 1:
                latest[account_id] = (as_of, band)
            else:
                previous[account_id] = band
        return [
            Event(playbook, account_id, f"{playbook.id}:{account_id}:{as_of.isoformat()}")
            for account_id, (as_of, band) in sorted(latest.items())
            if band == "red" and previous.get(account_id, "red") != "red"
        ]
    if isinstance(trigger, SignalOpened):
        query = select(ChurnSignal).where(ChurnSignal.resolved_at.is_(None)).order_by(ChurnSignal.id)
        if trigger.signals is not None:
            query = query.where(ChurnSignal.kind.in_(trigger.signals))
        return [
            Event(playbook, signal.account_id, f"{playbook.id}:{signal.account_id}:signal-{signal.id}", signal)
            for signal in session.scalars(query)
        ]
    rows = session.execute(
        select(Customer.id, Customer.renewal_date)
        .where(Customer.renewal_date >= today, Customer.renewal_date <= today + timedelta(days=trigger.days))
        .order_by(Customer.id)
    )
    return [
        Event(playbook, account_id, f"{playbook.id}:{account_id}:renewal-{renewal.isoformat()}")
        for account_id, renewal in rows
    ]


def _keys(event: Event) -> list[str]:
    """The task or delivery key of each of the event's actions; a second action of the same type gets "#1"."""
    base = f"{KEY_PREFIX}{event.key}"
    seen: dict[str, int] = {}
    keys = []
    for action in event.playbook.actions:
        n = seen[action.type] = seen.get(action.type, -1) + 1
        keys.append((base if isinstance(action, CreateTask) else f"{base}:webhook") + ("" if n == 0 else f"#{n}"))
    return keys


def _act(session: Session, events: list[Event], today: date, settings: CoreSettings, summary: RunSummary) -> None:
    keys = {event.key: _keys(event) for event in events}
    every_key = [key for event_keys in keys.values() for key in event_keys]
    done = _existing(session, CSMTask.source_key, every_key) | _existing(session, WebhookDelivery.event_key, every_key)
    accounts = _context(session, {e.account_id for e in events}, today)
    off_logged: set[str] = set()
    # Rows go in as one executemany per table: ORM objects went in one INSERT each (9 s for 15,000 tasks on SQLite).
    new_tasks: list[dict[str, Any]] = []
    new_calls: list[dict[str, Any]] = []
    for event in events:
        context = dict(accounts[event.account_id])
        if event.signal is not None:
            context["signal"] = signals.KIND_LABELS.get(event.signal.kind, event.signal.kind)
            context["evidence"] = str((event.signal.evidence or {}).get("summary", ""))
        task: dict[str, Any] | None = None
        for action, key in zip(event.playbook.actions, keys[event.key], strict=True):
            if key in done:
                continue
            if isinstance(action, CreateTask):
                task = {
                    "account_id": event.account_id,
                    "owner_id": context["_owner_id"],
                    "title": action.title.format_map(context)[:200],
                    "detail": action.detail.format_map(context),
                    "due_on": today + timedelta(days=action.due_in_days),
                    "status": "open",
                    "source": f"playbook:{event.playbook.id}",
                    "source_key": key,
                    "signal_id": event.signal.id if event.signal is not None else None,
                    "created_at": utcnow(),
                }
                new_tasks.append(task)
                continue
            url = action.url or settings.webhook_url
            if url is None:
                if event.playbook.id not in off_logged:
                    logger.info(
                        "playbook %s: webhook action off (no url, KEEPWELL_WEBHOOK_URL unset)", event.playbook.id
                    )
                    off_logged.add(event.playbook.id)
                continue
            new_calls.append({
                "event_key": key, "playbook": event.playbook.id, "account_id": event.account_id, "url": url,
                "payload": _payload(event, context, task, today), "status": "pending", "attempts": 0,
                "created_at": utcnow(),
            })  # fmt: skip
    session.flush()
    if new_tasks:
        session.execute(insert(CSMTask), new_tasks)
    if new_calls:
        session.execute(insert(WebhookDelivery), new_calls)
    summary.tasks_created, summary.deliveries_created = len(new_tasks), len(new_calls)


def _existing(session: Session, column: Any, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), _KEY_CHUNK):
        found.update(session.scalars(select(column).where(column.in_(keys[start : start + _KEY_CHUNK]))))
    return found


def _context(session: Session, account_ids: set[str], today: date) -> dict[str, dict[str, Any]]:
    health = latest_health(session, today, sorted(account_ids))
    rows = session.execute(
        select(Customer, CSMUser.username)
        .outerjoin(CSMUser, CSMUser.id == Customer.owner_csm_id)
        .where(Customer.id.in_(sorted(account_ids)))
    )
    context: dict[str, dict[str, Any]] = {}
    for customer, owner_email in rows:
        as_of, band, score = health.get(customer.id, (None, "unknown", None))
        context[customer.id] = {
            "account_id": customer.id,
            "account_name": customer.name,
            "plan": customer.plan,
            "mrr": f"{customer.mrr:,.0f}",
            "band": band,
            "score": "?" if score is None else score,
            "renewal_date": customer.renewal_date.isoformat(),
            "days_to_renewal": (customer.renewal_date - today).days,
            "signal": "",
            "evidence": "",
            "_owner_id": customer.owner_csm_id,
            "_owner_email": owner_email,
            "_health_as_of": as_of.isoformat() if as_of else None,
        }
    return context


def _payload(event: Event, context: dict[str, Any], task: dict[str, Any] | None, today: date) -> dict[str, Any]:
    signal = event.signal
    return {
        "event": event.playbook.trigger.type,
        "playbook": event.playbook.id,
        "on": today.isoformat(),
        "account": {
            "id": context["account_id"],
            "name": context["account_name"],
            "plan": context["plan"],
            "renewal_date": context["renewal_date"],
            "owner": context["_owner_email"],
        },
        "health": {"band": context["band"], "score": context["score"], "as_of": context["_health_as_of"]},
        "signal": None
        if signal is None
        else {"id": signal.id, "kind": signal.kind, "evidence": dict(signal.evidence or {})},
        # The task by its key (unique, and known before the row is written), not its id.
        "task": None
        if task is None
        else {"key": task["source_key"], "title": task["title"], "due_on": task["due_on"].isoformat()},
    }
