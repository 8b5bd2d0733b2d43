"""Why an offer fits an account, in the customer's own numbers: "you use 48 of 50 seats".

The sentence comes from what made the offer eligible: each condition it states, read back as the account's value
("seat_utilisation >= 0.9" becomes "you use 48 of 50 seats"); an offer without conditions is explained by the
narrowest thing it targets (the renewal stage, onboarding, the plan). Pure, so it is tested without a database.
"""

from keepwell.accounts import Account
from keepwell.health import HealthScore
from keepwell.offer_catalogue import Offer
from keepwell.segments import COMPANY_SIZES, LIFECYCLE_STAGES, PLAN_LABELS, PLANS


def _seats(account: Account) -> str:
    return f"you use {account.seats_used} of {account.seats_purchased} seats"


def _active(account: Account) -> str | None:
    if account.usage is None:
        return None
    return f"{account.usage.active_users} of the {account.seats_used} people with a seat were active last period"


def _adoption(account: Account) -> str | None:
    return None if account.usage is None else f"your team uses {account.usage.feature_adoption:.0%} of the key features"


def _tickets(account: Account) -> str | None:
    if account.usage is None:
        return None
    tickets = account.usage.support_tickets
    return f"your team opened {tickets} support ticket{'' if tickets == 1 else 's'} last period"


def _phrase(metric: str, account: Account, health: HealthScore) -> str | None:
    phrases = {
        "seat_utilisation": lambda: _seats(account),
        "seats_used": lambda: f"{account.seats_used} people have a seat",
        "seats_purchased": lambda: f"you pay for {account.seats_purchased} seats",
        "feature_adoption": lambda: _adoption(account),
        "active_user_share": lambda: _active(account),
        "tickets_per_seat": lambda: _tickets(account),
        "health_score": lambda: f"your health score is {health.score}/100",
    }
    make = phrases.get(metric)
    return make() if make else None


def _target(offer: "Offer", account: Account) -> str:
    rules = offer.eligibility
    if set(rules.lifecycle_stages) != set(LIFECYCLE_STAGES):
        if account.lifecycle_stage == "renewal":
            return f"your renewal is on {account.renewal_date:%d %B %Y}"
        if account.lifecycle_stage == "onboarding":
            return "your team is still getting started"
    plan = PLAN_LABELS.get(account.plan, account.plan)
    if set(rules.company_sizes) != set(COMPANY_SIZES):
        return f"it suits a {account.company_size}-sized team on {plan} like yours"
    if set(rules.plans) != set(PLANS):
        return f"you are on the {plan} plan"
    return f"it helps every team on {plan}"


def why(offer: "Offer", account: Account, health: HealthScore) -> str:
    """One sentence, capitalised and ending with a full stop."""
    phrases: list[str] = []
    for condition in offer.eligibility.conditions:
        phrase = _phrase(condition.metric, account, health)
        if phrase and phrase not in phrases:  # two conditions on seats read as one
            phrases.append(phrase)
    if not phrases:
        phrases.append(_target(offer, account))
    text = phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " and " + phrases[-1]
    return text[0].upper() + text[1:] + "."
