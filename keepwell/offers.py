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

from collections.abc import Sequence
from dataclasses import dataclass, field

from keepwell.accounts import Account
from keepwell.health import NO_USAGE_LABEL, HealthScore
from keepwell.offer_catalogue import SELLING_KINDS, Offer
from keepwell.offer_reasons import why as why_it_fits
from keepwell.segments import PLAN_LABELS, PLANS

# Kinds each band may see, preferred first (see the module docstring).
KIND_ORDER: dict[str, tuple[str, ...]] = {
    "green": ("upsell", "cross_sell", "enablement"),
    "yellow": ("enablement", "cross_sell", "upsell"),
    "red": ("enablement",),
}


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
    to it within the repeat period, the offers it accepted, and the add-ons its subscription term in force includes
    (the last two it owns)."""

    open_signals: frozenset[str] = frozenset()
    recently_shown: frozenset[str] = frozenset()
    owned: frozenset[str] = frozenset()
    add_ons: frozenset[str] = frozenset()

    def owns(self, offer: Offer) -> bool:
        return offer.id in self.owned or (offer.add_on is not None and offer.add_on in self.add_ons)


OPEN_SIGNAL_REASON = (
    "Your customer success manager is already looking at your account with you, so I'll leave suggestions to them "
    "for now."
)


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
        standing: open churn signals (none at all then), offers shown recently or owned, add-ons the subscription
            includes (left out); None: none.

    Returns:
        Up to `limit` eligible offers, best fit first, and a reason fit to show a CSM or the customer.
    """
    standing = standing or Standing()
    if standing.open_signals:
        return Recommendation(offers=[], reason=OPEN_SIGNAL_REASON)
    kinds = KIND_ORDER[health.band]
    eligible = [offer for offer in catalogue if offer.kind in kinds and is_eligible(offer, account, health)]
    fresh = [offer for offer in eligible if offer.id not in standing.recently_shown and not standing.owns(offer)]
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
