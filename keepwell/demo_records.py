"""Demo data for the customer-success records of the demo accounts: subscription history, contacts, survey answers
and onboarding checklists, consistent with the accounts and usage `keepwell.demo_data` made.

- Subscriptions: every account's current term matches its plan, MRR and seats. About a third of the paid accounts
  changed terms once since signup (seven in ten grew their seats, the rest shrank them), so net revenue retention has
  expansion and contraction to show. About half the Free accounts older than four months paid for Starter before
  and downgraded, one a month over recent months, so churn, lifetime and LTV have customers lost to count. A few red
  accounts are behind on payment.
- Contacts: a champion (the primary contact), often an admin, and a billing contact on paid plans.
- Survey answers: each usage snapshot's NPS and CSAT, given by the champion on the snapshot's last day.
- Onboarding: the product's six-step "Getting started" checklist, further along the longer the account has been in.
"""

import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from keepwell.models import Contact, Customer, OnboardingStep, Subscription, SurveyAnswer

# The product's Getting started checklist (knowledge_base/content/getting-started/onboarding-checklist.md).
CHECKLIST: tuple[tuple[str, str, str], ...] = (
    ("complete-profile", "Complete your profile", "/help/getting-started/profile-and-preferences"),
    ("invite-teammates", "Invite teammates", "/help/getting-started/invite-teammates"),
    ("create-project", "Create a project", "/help/getting-started/first-project"),
    ("add-tasks", "Add three tasks", "/help/getting-started/first-project"),
    ("install-mobile-app", "Install the mobile app", "/help/getting-started/install-mobile-app"),
    ("connect-integration", "Connect an integration", "/help/integrations/slack"),
)
# Steps completed by lifecycle stage (inclusive bounds): accounts still onboarding are part way through.
_STEPS_DONE = {"onboarding": (1, 4), "adoption": (4, 6), "mature": (6, 6), "renewal": (6, 6)}
_CHANGED_TERMS_SHARE = 0.35
_EXPANSION_SHARE = 0.7
_PAST_DUE_SHARE_OF_RED = 0.3
_FIRST = ("Alex", "Sam", "Jordan", "Priya", "Mateo", "Yuki", "Amara", "Lena", "Omar", "Chloe", "Ines", "Tomasz")
_LAST = ("Okafor", "Lindqvist", "Moreau", "Tanaka", "Schmidt", "Haddad", "Costa", "Novak", "Reyes", "Walsh")


def seed(
    session: Session,
    customers: list[Customer],
    bands: dict[str, str],
    *,
    seed: int,
    today: date,
    starter_seat_price: float,
) -> None:
    """Add the records of `customers` (with their usage); `bands` gives each one's target health band and
    `starter_seat_price` what the downgraded Free accounts paid a seat before."""
    rng = random.Random(f"{seed}-records")  # noqa: S311 -- demo data wants reproducible draws, not secrecy
    champions: dict[str, Contact] = {}
    downgrades = 0
    for customer in customers:
        terms = _subscriptions(rng, customer, bands[customer.id], today)
        downgraded_on = today - timedelta(days=15 + 30 * downgrades)
        if customer.plan == "free" and (today - customer.signup_date).days >= 120 and rng.random() < 0.5:
            # A paid month at least before the downgrade, however many accounts came before this one.
            if downgraded_on >= customer.signup_date + timedelta(days=30):
                terms = _downgraded(rng, terms[0], downgraded_on, starter_seat_price)
                downgrades += 1
        session.add_all(terms)
        contacts = _contacts(rng, customer)
        champions[customer.id] = contacts[0]
        session.add_all(contacts)
        session.add_all(_onboarding(rng, customer, today))
    session.flush()  # contact ids, for the answers
    for customer in customers:
        session.add_all(_answers(customer, champions[customer.id]))
    session.flush()


def _subscriptions(rng: random.Random, customer: Customer, band: str, today: date) -> list[Subscription]:
    billing = "past_due" if band == "red" and rng.random() < _PAST_DUE_SHARE_OF_RED else "current"
    current = Subscription(
        external_id=f"sub_{customer.id}_1",
        account_id=customer.id,
        plan=customer.plan,
        mrr=customer.mrr,
        seats_purchased=customer.seats_purchased,
        seats_used=customer.seats_used,
        started_on=customer.signup_date,
        renews_on=customer.renewal_date,
        status="active",
        billing_state=billing,
    )
    days_in = (today - customer.signup_date).days
    if customer.mrr == 0 or days_in < 60 or rng.random() >= _CHANGED_TERMS_SHARE:
        return [current]
    # One change of seats since signup: the first term ends the day the current one starts.
    changed_on = customer.signup_date + timedelta(days=rng.randint(30, days_in - 15))
    factor = rng.uniform(0.55, 0.9) if rng.random() < _EXPANSION_SHARE else rng.uniform(1.15, 1.6)
    seats = max(1, round(customer.seats_purchased * factor))
    price = customer.mrr / customer.seats_purchased
    earlier = Subscription(
        external_id=f"sub_{customer.id}_0",
        account_id=customer.id,
        plan=customer.plan,
        mrr=round(seats * price, 2),
        seats_purchased=seats,
        seats_used=min(seats, customer.seats_used),
        started_on=customer.signup_date,
        renews_on=None,
        ended_on=changed_on,
        status="superseded",
        billing_state="current",
    )
    current.started_on = changed_on
    return [earlier, current]


def _downgraded(rng: random.Random, free: Subscription, on: date, seat_price: float) -> list[Subscription]:
    """A Starter term from signup until `on`, when the account went down to its current Free term."""
    seats = rng.randint(3, 10)
    starter = Subscription(
        external_id=f"sub_{free.account_id}_0",
        account_id=free.account_id,
        plan="starter",
        mrr=seats * seat_price,
        seats_purchased=seats,
        seats_used=seats,
        started_on=free.started_on,
        renews_on=None,
        ended_on=on,
        status="superseded",
        billing_state="current",
    )
    free.started_on = on
    return [starter, free]


def _contacts(rng: random.Random, customer: Customer) -> list[Contact]:
    domain = "".join(ch for ch in customer.name.lower() if ch.isalnum()) + ".example"
    roles = ["champion"]
    if rng.random() < 0.6:
        roles.append("admin")
    if customer.plan != "free":
        roles.append("billing")
    contacts = []
    for n, role in enumerate(roles):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        contacts.append(
            Contact(
                external_id=f"{customer.id}_contact_{n + 1}",
                account_id=customer.id,
                name=f"{first} {last}",
                email=f"{first.lower()}.{last.lower()}@{domain}",
                role=role,
                is_primary=n == 0,
            )
        )
    return contacts


def _onboarding(rng: random.Random, customer: Customer, today: date) -> list[OnboardingStep]:
    done = rng.randint(*_STEPS_DONE.get(customer.lifecycle_stage, (0, len(CHECKLIST))))
    steps = []
    day = customer.signup_date
    for position, (key, title, url) in enumerate(CHECKLIST, start=1):
        completed = None
        if position <= done:
            day = min(day + timedelta(days=rng.randint(0, 10)), today)
            completed = datetime.combine(day, time(hour=8 + position), tzinfo=UTC)  # in checklist order
        steps.append(
            OnboardingStep(
                account_id=customer.id,
                step_key=key,
                title=title,
                position=position,
                help_url=url,
                due_on=customer.signup_date + timedelta(days=7 * position),
                completed_at=completed,
            )
        )
    return steps


def _answers(customer: Customer, champion: Contact) -> list[SurveyAnswer]:
    answers = []
    for snapshot in customer.usage:
        answered_at = datetime.combine(snapshot.period_end, time(hour=12), tzinfo=UTC)
        for kind, score in (("nps", snapshot.nps), ("csat", snapshot.csat)):
            if score is not None:
                answers.append(
                    SurveyAnswer(
                        external_id=f"{customer.id}_{kind}_{snapshot.period_end.isoformat()}",
                        account_id=customer.id,
                        contact_id=champion.id,
                        kind=kind,
                        score=round(score),
                        answered_at=answered_at,
                    )
                )
    return answers
