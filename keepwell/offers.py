"""Offer catalogue (upsell, cross-sell, enablement) and the rules that recommend offers to an account.

The catalogue lives in `offers.yml` beside this module; its header documents the format. Two rules hold whatever
the catalogue says, because they protect the customer relationship rather than express a preference:

- a **red** account is never shown an upsell or cross-sell, only enablement (free help to get value back);
- a plan upgrade is only ever offered towards a plan above the account's current one, so the top plan gets none.

Two more rules need what the database knows about the account (`Standing`, read by `keepwell.funnel`):

- an account with an **open churn signal** is shown no offer at all, enablement included: its CSM is working with it,
  and any suggestion from the bot would cross what they say (the issue's rule, followed literally);
- the same offer is **never shown twice** within the repeat period (`KEEPWELL_OFFER_REPEAT_DAYS`), and an offer the
  account has accepted (it owns it) is never shown again.

Choosing among eligible offers is deterministic:

1. The band sets an order of kinds: green prefers upsell, then cross-sell, then enablement; yellow needs adoption
   help before it is asked to spend more, so enablement, then cross-sell, then upsell; red has enablement only.
2. Within a kind, offers rank by fit = priority (an editorial boost set in the catalogue, default 0)
   + 2 x (conditions the offer states) + (dimensions it narrows: plans, sizes, stages, bands), so the most targeted
   offer wins; ties keep catalogue order.
3. The first places go to the best offer of each kind, in the band's order, so a recommendation mixes kinds
   (a non-red Free account always sees an upgrade when one is eligible); the remaining places go to the best of
   what is left, in the same order.
4. At most one plan upgrade is recommended at a time.
"""

import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from keepwell.accounts import Account
from keepwell.health import MIN_SEATS_FOR_SUPPORT_LOAD, NO_USAGE_LABEL, HealthScore
from keepwell.offer_reasons import why as why_it_fits
from keepwell.segments import COMPANY_SIZES, LIFECYCLE_STAGES, PLAN_LABELS, PLANS

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
# Kinds each band may see, preferred first (see the module docstring).
KIND_ORDER: dict[str, tuple[str, ...]] = {
    "green": ("upsell", "cross_sell", "enablement"),
    "yellow": ("enablement", "cross_sell", "upsell"),
    "red": ("enablement",),
}


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

    @property
    def is_plan_upgrade(self) -> bool:
        return self.upgrade_to is not None


@dataclass(frozen=True)
class Recommendation:
    """Offers ranked by fit (at most the requested number), a sentence on why these kinds were chosen, and for each
    offer why it fits this account in plain words ("you use 48 of 50 seats")."""

    offers: list[Offer]
    reason: str
    why: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Standing:
    """What the database knows of an account beyond its usage: the kinds of its open churn signals, the offers shown
    to it within the repeat period, and the offers it accepted (owns)."""

    open_signals: frozenset[str] = frozenset()
    recently_shown: frozenset[str] = frozenset()
    owned: frozenset[str] = frozenset()


OPEN_SIGNAL_REASON = (
    "Your customer success manager is already looking at your account with you, so I'll leave suggestions to them "
    "for now."
)


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


# --- recommendation ---------------------------------------------------------------------------------------------


def is_eligible(offer: Offer, account: Account, health: HealthScore) -> bool:
    """Whether `offer` may be shown to `account`, including the two rules no catalogue can override."""
    if health.band == "red" and offer.kind in SELLING_KINDS:
        return False
    if offer.upgrade_to is not None and not _is_upgrade(account.plan, offer.upgrade_to):
        return False
    rules = offer.eligibility
    return (
        account.plan in rules.plans
        and account.company_size in rules.company_sizes
        and account.lifecycle_stage in rules.lifecycle_stages
        and health.band in rules.bands
        and all(condition.holds(account, health) for condition in rules.conditions)
    )


def recommend(
    account: Account, health: HealthScore, catalogue: Sequence[Offer], limit: int = 3, standing: Standing | None = None
) -> Recommendation:
    """Pick the offers that fit an account best.

    Args:
        account: the account, with its latest usage.
        health: its health score (`health.score(account)`); the band decides which kinds of offer are allowed.
        catalogue: offers from `load_catalogue`, in the order that breaks ties.
        limit: the most offers to return.
        standing: open churn signals (none at all then), offers shown recently and owned (left out); None: none.

    Returns:
        Up to `limit` eligible offers, best fit first, and a reason fit to show a CSM or the customer.
    """
    standing = standing or Standing()
    if standing.open_signals:
        return Recommendation(offers=[], reason=OPEN_SIGNAL_REASON)
    kinds = KIND_ORDER[health.band]
    eligible = [offer for offer in catalogue if offer.kind in kinds and is_eligible(offer, account, health)]
    fresh = [offer for offer in eligible if offer.id not in standing.recently_shown | standing.owned]
    # sorted() is stable: equal keys keep catalogue order.
    ranked = sorted(fresh, key=lambda o: (kinds.index(o.kind), -fit(o)))
    best_of_each_kind = [o for i, o in enumerate(ranked) if all(other.kind != o.kind for other in ranked[:i])]
    chosen: list[Offer] = []
    for offer in best_of_each_kind + ranked:
        if len(chosen) >= limit:
            break
        # Two plan upgrades side by side read as indecision; keep the better-fitting one.
        if offer in chosen or (offer.is_plan_upgrade and any(o.is_plan_upgrade for o in chosen)):
            continue
        chosen.append(offer)
    chosen.sort(key=lambda o: (kinds.index(o.kind), -fit(o)))
    reason = _reason(account, health, chosen, held_back=len(fresh) < len(eligible))
    return Recommendation(offers=chosen, reason=reason, why={o.id: why_it_fits(o, account, health) for o in chosen})


def fit(offer: Offer) -> int:
    """How well an offer fits when eligible: its priority, plus 2 per condition and 1 per narrowed dimension."""
    return offer.priority + 2 * len(offer.eligibility.conditions) + offer.eligibility.specificity


def _is_upgrade(current: str, target: str) -> bool:
    return current in PLANS and target in PLANS and PLANS.index(target) > PLANS.index(current)


def _reason(account: Account, health: HealthScore, offers: list[Offer], *, held_back: bool = False) -> str:
    concerns = [d.label for d in health.drivers if d.direction == "down"]
    if not concerns:
        concern = ""
    elif concerns[0] == NO_USAGE_LABEL:
        concern = " There is no usage data yet to judge from."
    else:
        concern = f" The main concern is {concerns[0]}."
    if health.band == "red":
        reason = (
            f"Health is red ({health.score}/100), so no upgrades or add-ons are suggested: the priority is helping "
            f"the team get value from the product again.{concern}"
        )
    elif health.band == "yellow":
        reason = f"Health is yellow ({health.score}/100), so help with adoption comes before anything to buy.{concern}"
    else:
        plan = PLAN_LABELS.get(account.plan, account.plan)
        reason = (
            f"Health is green ({health.score}/100): the team gets value from its {plan} plan, so upgrades and "
            f"add-ons that match its usage come first."
        )
    if not offers and held_back:
        reason += " The suggestions that fit were shared recently, so there is nothing new right now."
    elif not offers:
        reason += " No catalogue offer fits this account right now."
    return reason
