"""The offer catalogue: what each offer is and who may see it, read from `offers.yml` (its header documents the
format) and checked with errors that name the file and the line. `keepwell.offers` recommends from it."""

import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from keepwell.accounts import Account
from keepwell.health import MIN_SEATS_FOR_SUPPORT_LOAD, HealthScore
from keepwell.models.subscriptions import ADD_ON_KEY
from keepwell.segments import COMPANY_SIZES, LIFECYCLE_STAGES, PLANS

DEFAULT_CATALOGUE_PATH = Path(__file__).resolve().with_name("offers.yml")

Kind = Literal["upsell", "cross_sell", "enablement"]
SELLING_KINDS = frozenset({"upsell", "cross_sell"})
BANDS: tuple[str, ...] = ("green", "yellow", "red")
# Help-centre article categories, as the knowledge base files them.
HELP_CATEGORIES = ("getting-started", "features", "billing", "integrations", "admin-security", "troubleshooting")
_VOCABULARIES = {"plans": PLANS, "company_sizes": COMPANY_SIZES, "lifecycle_stages": LIFECYCLE_STAGES, "bands": BANDS}

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_CONDITION = re.compile(r"^\s*([a-z_]+)\s*(<=|>=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$")
_URL = re.compile(rf"^/help/({'|'.join(HELP_CATEGORIES)})/[a-z0-9]+(-[a-z0-9]+)*$")
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")


class CatalogueError(ValueError):
    """The offer catalogue file is missing, unreadable, not YAML, or breaks the catalogue rules."""


def _feature_adoption(account: Account, _health: HealthScore) -> float | None:
    return account.usage.feature_adoption if account.usage else None


def _active_user_share(account: Account, _health: HealthScore) -> float | None:
    if account.usage is None:
        return None
    return account.usage.active_users / account.seats_used if account.seats_used > 0 else 0.0


def _tickets_per_seat(account: Account, _health: HealthScore) -> float | None:
    if account.usage is None:
        return None
    # Same denominator as the health scorecard's support load, so the two never disagree.
    return account.usage.support_tickets / max(account.seats_used, MIN_SEATS_FOR_SUPPORT_LOAD)


# Metrics a condition may test; None means "unknown", and a condition on an unknown metric does not hold.
METRICS: dict[str, Callable[[Account, HealthScore], float | None]] = {
    "seat_utilisation": lambda account, _health: account.seat_utilisation,
    "seats_used": lambda account, _health: account.seats_used,
    "seats_purchased": lambda account, _health: account.seats_purchased,
    "feature_adoption": _feature_adoption,
    "active_user_share": _active_user_share,
    "tickets_per_seat": _tickets_per_seat,
    "health_score": lambda _account, health: health.score,
}


@dataclass(frozen=True)
class Condition:
    """A threshold on one metric, written in the catalogue as e.g. "seat_utilisation >= 0.9"."""

    metric: str
    op: str
    threshold: float

    def holds(self, account: Account, health: HealthScore) -> bool:
        """True when the metric is known for this account and passes the threshold."""
        value = METRICS[self.metric](account, health)
        return value is not None and _OPERATORS[self.op](value, self.threshold)

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {self.threshold:g}"


@dataclass(frozen=True)
class Eligibility:
    """Who may be shown an offer: every listed dimension must match and every condition hold."""

    plans: tuple[str, ...] = PLANS
    company_sizes: tuple[str, ...] = COMPANY_SIZES
    lifecycle_stages: tuple[str, ...] = LIFECYCLE_STAGES
    bands: tuple[str, ...] = BANDS
    conditions: tuple[Condition, ...] = ()

    @property
    def specificity(self) -> int:
        """How many dimensions are narrowed below "any"; used to rank targeted offers first."""
        dimensions = (
            (self.plans, PLANS),
            (self.company_sizes, COMPANY_SIZES),
            (self.lifecycle_stages, LIFECYCLE_STAGES),
            (self.bands, BANDS),
        )
        return sum(1 for allowed, universe in dimensions if set(allowed) != set(universe))


@dataclass(frozen=True)
class Offer:
    """A catalogue entry; `upgrade_to` is set only on plan upgrades."""

    id: str
    kind: Kind
    title: str
    pitch: str
    url: str
    eligibility: Eligibility = Eligibility()
    upgrade_to: str | None = None
    priority: int = 0
    # The add-on this offer sells (a subscription's `add_ons` key): an account whose term includes it owns it.
    add_on: str | None = None

    @property
    def is_plan_upgrade(self) -> bool:
        return self.upgrade_to is not None


# --- catalogue file schema -------------------------------------------------------------------------------------


def _check_members(values: list[str] | None, allowed: Sequence[str], what: str) -> list[str] | None:
    if values is None:
        return None
    if not values:
        raise ValueError(f"an empty {what} list matches nobody; omit it to allow any")
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise ValueError(f"unknown {what} {unknown}; allowed: {list(allowed)}")
    return values


def _parse_condition(text: str) -> Condition:
    match = _CONDITION.match(text)
    if not match:
        raise ValueError(f"condition {text!r} is not '<metric> <op> <number>' with op one of < <= > >=")
    metric, op, threshold = match.groups()
    if metric not in METRICS:
        raise ValueError(f"condition {text!r} uses unknown metric {metric!r}; known: {list(METRICS)}")
    return Condition(metric=metric, op=op, threshold=float(threshold))


class _EligibleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plans: list[str] | None = None
    company_sizes: list[str] | None = None
    lifecycle_stages: list[str] | None = None
    bands: list[str] | None = None
    when: list[str] = Field(default_factory=list)

    @field_validator("plans", "company_sizes", "lifecycle_stages", "bands")
    @classmethod
    def _known_values(cls, v: list[str] | None, info: ValidationInfo) -> list[str] | None:
        allowed = _VOCABULARIES[info.field_name or ""]
        return _check_members(v, allowed, (info.field_name or "").replace("_", " "))

    @field_validator("when")
    @classmethod
    def _when(cls, v: list[str]) -> list[str]:
        for text in v:
            _parse_condition(text)
        return v

    def to_eligibility(self) -> Eligibility:
        return Eligibility(
            plans=tuple(self.plans or PLANS),
            company_sizes=tuple(self.company_sizes or COMPANY_SIZES),
            lifecycle_stages=tuple(self.lifecycle_stages or LIFECYCLE_STAGES),
            bands=tuple(self.bands or BANDS),
            conditions=tuple(_parse_condition(text) for text in self.when),
        )


class _OfferIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=64)
    kind: Kind
    title: str = Field(min_length=1, max_length=80)
    pitch: str = Field(min_length=1, max_length=300)
    url: str
    upgrade_to: str | None = None
    priority: int = Field(default=0, ge=0, le=10)
    add_on: str | None = Field(default=None, pattern=ADD_ON_KEY)
    eligible: _EligibleIn = Field(default_factory=_EligibleIn)

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not _URL.match(v):
            raise ValueError(f"url {v!r} is not /help/<category>/<article-slug> with category one of {HELP_CATEGORIES}")
        return v

    @field_validator("pitch")
    @classmethod
    def _pitch(cls, v: str) -> str:
        sentences = len(_SENTENCE_END.findall(v))
        if not v.endswith((".", "!", "?")) or sentences > 2:
            raise ValueError("pitch must be one or two sentences, ending with . ! or ?")
        return v

    @field_validator("upgrade_to")
    @classmethod
    def _upgrade_to(cls, v: str | None) -> str | None:
        if v is not None and v not in PLANS:
            raise ValueError(f"upgrade_to {v!r} is not a plan; plans: {list(PLANS)}")
        return v

    @model_validator(mode="after")
    def _rules(self) -> "_OfferIn":
        bands = self.eligible.bands or list(BANDS)
        if self.kind in SELLING_KINDS and "red" in bands:
            raise ValueError(f"{self.kind} offers may not target red accounts; list bands without red")
        if self.add_on is not None and self.kind != "cross_sell":
            raise ValueError("only cross_sell offers may set add_on")
        if self.upgrade_to is not None:
            if self.kind != "upsell":
                raise ValueError("only upsell offers may set upgrade_to")
            plans = self.eligible.plans or list(PLANS)
            not_below = [p for p in plans if PLANS.index(p) >= PLANS.index(self.upgrade_to)]
            if not_below:
                raise ValueError(f"upgrade_to {self.upgrade_to!r} is not above eligible plans {not_below}")
        return self

    def to_offer(self) -> Offer:
        return Offer(
            id=self.id,
            kind=self.kind,
            title=self.title,
            pitch=self.pitch,
            url=self.url,
            eligibility=self.eligible.to_eligibility(),
            upgrade_to=self.upgrade_to,
            priority=self.priority,
            add_on=self.add_on,
        )


class _CatalogueIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    offers: list[_OfferIn] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> "_CatalogueIn":
        ids = [offer.id for offer in self.offers]
        duplicates = sorted({offer_id for offer_id in ids if ids.count(offer_id) > 1})
        if duplicates:
            raise ValueError(f"duplicate offer ids {duplicates}")
        return self


def load_catalogue(path: Path | str = DEFAULT_CATALOGUE_PATH) -> list[Offer]:
    """Read and validate an offer catalogue.

    Args:
        path: a YAML file shaped like the bundled `offers.yml`.

    Returns:
        The offers in file order.

    Raises:
        CatalogueError: the file cannot be read, is not YAML, or breaks a rule; the message names the offer and field.
    """
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CatalogueError(f"cannot read offer catalogue {path}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise CatalogueError(f"offer catalogue {path} is not valid YAML: {exc}") from exc
    try:
        catalogue = _CatalogueIn.model_validate(raw)
    except ValidationError as exc:
        raise CatalogueError(f"invalid offer catalogue {path}:\n{_describe(exc, raw)}") from exc
    return [offer.to_offer() for offer in catalogue.offers]


def _describe(error: ValidationError, raw: Any) -> str:
    lines = []
    for item in error.errors():
        loc = list(item["loc"])
        where = ".".join(str(part) for part in loc) or "top level"
        if len(loc) >= 2 and loc[0] == "offers" and isinstance(loc[1], int):
            offer_raw = raw["offers"][loc[1]]
            offer_id = offer_raw.get("id") if isinstance(offer_raw, dict) else None
            field = ".".join(str(part) for part in loc[2:])
            where = f"offer #{loc[1] + 1}" + (f" ({offer_id})" if offer_id else "") + (f" {field}" if field else "")
        message = str(item["msg"]).removeprefix("Value error, ")
        lines.append(f"  - {where}: {message}")
    return "\n".join(lines)
