"""The importable record kinds: one pydantic model per kind (what a row must hold) and the kind's natural key (what
makes a re-import an update instead of a second row). SCHEMA.md documents the same columns for people."""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from operator import itemgetter
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from keepwell.models.subscriptions import ADD_ON_KEY, BILLING_STATES, MAX_ADD_ONS, SUBSCRIPTION_STATUSES
from keepwell.segments import COMPANY_SIZES, LIFECYCLE_STAGES, PLANS

# An account id is also the `sub` of the customer's identity token, so it follows the same alphabet.
AccountId = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9_.:@-]{1,64}$")]
ExternalId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Plan = Literal[PLANS]  # type: ignore[valid-type]
FEATURE_PREFIX = "feature:"


def _utc(moment: datetime) -> datetime:
    """A time without a zone is read as UTC (what the tables store)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


Moment = Annotated[datetime, AfterValidator(_utc)]


class Row(BaseModel):
    """A row of any kind: unknown columns are refused (a misspelt column must not be dropped silently)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class AccountRow(Row):
    id: AccountId
    name: str = Field(min_length=1, max_length=200)
    plan: Plan
    company_size: Literal[COMPANY_SIZES]  # type: ignore[valid-type]
    lifecycle_stage: Literal[LIFECYCLE_STAGES]  # type: ignore[valid-type]
    signup_date: date
    renewal_date: date
    # The owning CSM's console username (sign-in email); blank: unassigned.
    owner: Annotated[str, AfterValidator(str.lower)] | None = Field(default=None, max_length=100)
    # The current terms when the account has no subscriptions; its subscriptions' current term overrides them.
    mrr: float = Field(default=0.0, ge=0)
    seats_purchased: int = Field(default=0, ge=0)
    seats_used: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _renews_after_signup(self) -> "AccountRow":
        if self.renewal_date < self.signup_date:
            raise ValueError("renewal_date is before signup_date")
        return self


class ContactRow(Row):
    external_id: ExternalId
    account_id: AccountId
    name: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    role: str = Field(default="user", min_length=1, max_length=32)
    is_primary: bool = False


class SubscriptionRow(Row):
    external_id: ExternalId
    account_id: AccountId
    plan: Plan
    mrr: float = Field(ge=0)
    seats_purchased: int = Field(ge=0)
    seats_used: int = Field(ge=0)
    started_on: date
    renews_on: date | None = None
    ended_on: date | None = None
    status: Literal[SUBSCRIPTION_STATUSES] = "active"  # type: ignore[valid-type]
    billing_state: Literal[BILLING_STATES] = "current"  # type: ignore[valid-type]
    # In CSV, the keys separated by `;` (`automations-pro;premium-support`); in JSON, a list.
    add_ons: list[Annotated[str, StringConstraints(pattern=ADD_ON_KEY, max_length=64)]] = Field(
        default_factory=list, max_length=MAX_ADD_ONS
    )

    @field_validator("add_ons", mode="before")
    @classmethod
    def _split_add_ons(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [key.strip() for key in value.split(";") if key.strip()]
        return value

    @field_validator("add_ons")
    @classmethod
    def _distinct_add_ons(cls, value: list[str]) -> list[str]:
        return sorted(set(value))

    @model_validator(mode="after")
    def _ends_after_start(self) -> "SubscriptionRow":
        if self.ended_on is not None and self.ended_on < self.started_on:
            raise ValueError("ended_on is before started_on")
        return self


class UsageRow(Row):
    account_id: AccountId
    period_end: date
    period_days: int = Field(ge=1, le=366)
    logins: int = Field(ge=0)
    active_users: int = Field(ge=0)
    # Share (0..1) of the key features in use; computed from `features` when not given.
    feature_adoption: float | None = Field(default=None, ge=0, le=1)
    # Per feature key, the users who used it in the period. In CSV, one `feature:<key>` column per feature (the
    # reader gathers them here).
    features: (
        dict[Annotated[str, StringConstraints(min_length=1, max_length=64)], Annotated[int, Field(ge=0)]] | None
    ) = None
    support_tickets: int = Field(default=0, ge=0)
    nps: int | None = Field(default=None, ge=0, le=10)
    csat: float | None = Field(default=None, ge=1, le=5)

    @model_validator(mode="after")
    def _adoption(self) -> "UsageRow":
        if self.feature_adoption is None:
            if not self.features:
                raise ValueError("give feature_adoption or the per-feature use (feature:<key> columns)")
            used = sum(1 for users in self.features.values() if users > 0)
            object.__setattr__(self, "feature_adoption", round(used / len(self.features), 4))
        return self


class TicketRow(Row):
    external_id: ExternalId
    account_id: AccountId
    contact_external_id: ExternalId | None = None
    subject: str = Field(default="", max_length=200)
    priority: Literal["low", "normal", "high", "urgent"] = "normal"
    opened_at: Moment
    closed_at: Moment | None = None

    @model_validator(mode="after")
    def _closes_after_opening(self) -> "TicketRow":
        if self.closed_at is not None and self.closed_at < self.opened_at:
            raise ValueError("closed_at is before opened_at")
        return self


class SurveyRow(Row):
    external_id: ExternalId
    account_id: AccountId
    contact_external_id: ExternalId | None = None
    kind: Literal["csat", "nps"]
    score: int
    answered_at: Moment
    comment: str | None = Field(default=None, max_length=5000)

    @model_validator(mode="after")
    def _score_in_range(self) -> "SurveyRow":
        low, high = (1, 5) if self.kind == "csat" else (0, 10)
        if not low <= self.score <= high:
            raise ValueError(f"a {self.kind} score is {low} to {high}, not {self.score}")
        return self


class OnboardingRow(Row):
    account_id: AccountId
    step_key: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=1, max_length=200)
    position: int = Field(ge=0)
    help_url: str | None = Field(default=None, max_length=300)
    due_on: date | None = None
    completed_at: Moment | None = None


@dataclass(frozen=True)
class Kind:
    """A record kind: its row model, the file names it is recognised by, and its natural key."""

    name: str
    model: type[Row]
    file_names: tuple[str, ...]
    key: tuple[str, ...]

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(name for name, field in self.model.model_fields.items() if field.is_required())

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.model.model_fields)

    def key_of(self, row: Row) -> tuple[Any, ...]:
        # From __dict__ with one itemgetter: this runs for every row, and getattr on a pydantic model is slower.
        key = itemgetter(*self.key)(row.__dict__)
        return key if len(self.key) > 1 else (key,)


# In import order: accounts first (every other kind names one), contacts before the tickets and answers naming them.
KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind("accounts", AccountRow, ("accounts", "account", "customers"), ("id",)),
        Kind("contacts", ContactRow, ("contacts", "contact"), ("external_id",)),
        Kind("subscriptions", SubscriptionRow, ("subscriptions", "subscription"), ("external_id",)),
        Kind("usage", UsageRow, ("usage", "usage_snapshots"), ("account_id", "period_end")),
        Kind("tickets", TicketRow, ("tickets", "ticket", "support_tickets"), ("external_id",)),
        Kind("surveys", SurveyRow, ("surveys", "survey", "survey_answers"), ("external_id",)),
        Kind("onboarding", OnboardingRow, ("onboarding", "onboarding_steps"), ("account_id", "step_key")),
    )
}


class UnknownKind(ValueError):
    """A kind name (or file name) that is none of KINDS."""


def kind_named(name: str) -> Kind:
    """The kind called `name` or recognised by that file name stem (`support_tickets` is `tickets`).

    Raises:
        UnknownKind: nothing is called that.
    """
    for kind in KINDS.values():
        if name == kind.name or name in kind.file_names:
            return kind
    known = ", ".join(f"{kind.name} ({' or '.join(kind.file_names)}.csv/.json)" for kind in KINDS.values())
    raise UnknownKind(f"unknown record kind {name!r}; the kinds are {known}")
