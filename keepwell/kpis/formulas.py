"""The customer-success KPIs as pure functions of numbers: each docstring states its formula.

Conventions: money is per month unless a name says otherwise (MRR, ARPA); rates and shares are fractions
(0.05 is 5 %), except NPS, which is a score from -100 to 100. A KPI that the numbers do not define (no customers to
divide by, no churn to bound a lifetime) raises `UndefinedKPI` with the reason, never a silent zero or infinity.
Inputs that cannot be right (negative money, more customers lost than there were) raise `ValueError`.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass

CSAT_SCALE = (1, 5)
CSAT_SATISFIED_FROM = 4  # top-2-box: 4 and 5 on the 1-5 scale
NPS_SCALE = (0, 10)
NPS_PROMOTER_FROM = 9  # 9-10 promoters, 7-8 passives, 0-6 detractors
NPS_DETRACTOR_UP_TO = 6


class UndefinedKPI(ValueError):
    """The KPI has no value for these numbers; the message says why (e.g. "no customer churned")."""


@dataclass(frozen=True)
class RevenueMovements:
    """How the MRR of the customers present at the start of a period moved by its end (new customers excluded).

    All amounts are positive: `contraction` is MRR lost by customers who stayed, `churned` the whole start MRR of
    customers who left.
    """

    start_mrr: float
    expansion: float
    contraction: float
    churned: float


def mrr(amounts: Iterable[float]) -> float:
    """Monthly recurring revenue: MRR = sum of the monthly amounts of the subscriptions in force."""
    values = list(amounts)
    _not_negative(*values, what="a subscription's MRR")
    return float(sum(values))


def arr(monthly_recurring_revenue: float) -> float:
    """Annual recurring revenue: ARR = MRR x 12."""
    _not_negative(monthly_recurring_revenue, what="MRR")
    return monthly_recurring_revenue * 12


def arpa(monthly_recurring_revenue: float, paying_accounts: int) -> float:
    """Average revenue per account (per month): ARPA = MRR / number of paying accounts."""
    _not_negative(monthly_recurring_revenue, paying_accounts, what="MRR and account counts")
    if paying_accounts == 0:
        raise UndefinedKPI("no paying account to average over")
    return monthly_recurring_revenue / paying_accounts


def churn_rate(customers_at_start: int, customers_lost: int) -> float:
    """Customer churn rate of a period: customers lost during it / customers at its start.

    Customers who joined during the period count in neither number.
    """
    _not_negative(customers_at_start, customers_lost, what="customer counts")
    if customers_lost > customers_at_start:
        raise ValueError(f"{customers_lost} customers lost out of {customers_at_start} at the start")
    if customers_at_start == 0:
        raise UndefinedKPI("no customer at the start of the period")
    return customers_lost / customers_at_start


def monthly_rate(period_rate: float, months: float) -> float:
    """The constant monthly rate that compounds to `period_rate` over `months`: 1 - (1 - period_rate) ** (1 / months).

    A churn rate measured over a quarter, turned into the monthly one that LTV divides monthly ARPA by.
    """
    if not 0 <= period_rate <= 1:
        raise ValueError(f"a rate must be between 0 and 1, not {period_rate}")
    if months <= 0:
        raise ValueError(f"a period must last more than 0 months, not {months}")
    return 1 - (1 - period_rate) ** (1 / months)


def revenue_movements(mrr_by_customer: Iterable[tuple[float, float]]) -> RevenueMovements:
    """Split the MRR change of the customers present at the start into expansion, contraction and churn.

    Args:
        mrr_by_customer: (MRR at start, MRR at end) of each customer paying at the start; an end of 0 is a
            customer lost.
    """
    start = expansion = contraction = churned = 0.0
    for before, after in mrr_by_customer:
        _not_negative(before, after, what="MRR")
        start += before
        if after == 0:
            churned += before
        elif after > before:
            expansion += after - before
        else:
            contraction += before - after
    return RevenueMovements(start_mrr=start, expansion=expansion, contraction=contraction, churned=churned)


def gross_revenue_retention(movements: RevenueMovements) -> float:
    """GRR = (start MRR - contraction - churned MRR) / start MRR: the revenue kept, expansion ignored (at most 1)."""
    start = _start_mrr(movements)
    return (start - movements.contraction - movements.churned) / start


def net_revenue_retention(movements: RevenueMovements) -> float:
    """NRR = (start MRR + expansion - contraction - churned MRR) / start MRR: above 1 when growth outruns losses."""
    start = _start_mrr(movements)
    return (start + movements.expansion - movements.contraction - movements.churned) / start


def customer_retention_cost(retention_spend: float, customers: int) -> float:
    """Customer retention cost of a period: CRC = what was spent on keeping customers (customer-success salaries,
    tools, programmes) / the customers served."""
    _not_negative(retention_spend, customers, what="spend and customer counts")
    if customers == 0:
        raise UndefinedKPI("no customer to spread the retention spend over")
    return retention_spend / customers


def csat(answers: Iterable[int]) -> float:
    """Customer satisfaction as the top-2-box share: CSAT = answers of 4 or 5 / all answers (1-5 scale)."""
    scores = _in_scale(answers, CSAT_SCALE, "CSAT")
    if not scores:
        raise UndefinedKPI("no CSAT answer")
    return sum(1 for score in scores if score >= CSAT_SATISFIED_FROM) / len(scores)


def nps(answers: Iterable[int]) -> float:
    """Net promoter score: NPS = (promoters - detractors) / all answers x 100, from -100 to 100.

    Promoters answer 9 or 10, detractors 0 to 6; passives (7, 8) count only in the total.
    """
    scores = _in_scale(answers, NPS_SCALE, "NPS")
    if not scores:
        raise UndefinedKPI("no NPS answer")
    promoters = sum(1 for score in scores if score >= NPS_PROMOTER_FROM)
    detractors = sum(1 for score in scores if score <= NPS_DETRACTOR_UP_TO)
    return (promoters - detractors) / len(scores) * 100


def customer_lifetime(churn: float) -> float:
    """Expected customer lifetime, in the periods the churn rate is measured over: lifetime = 1 / churn rate."""
    if not 0 <= churn <= 1:
        raise ValueError(f"a churn rate must be between 0 and 1, not {churn}")
    if churn == 0:
        raise UndefinedKPI("no customer churned, so the expected lifetime (1 / churn rate) is unbounded")
    return 1 / churn


def ltv_from_churn(arpa_per_month: float, monthly_churn: float) -> float:
    """Lifetime value from revenue: LTV = ARPA / churn rate (both per month)."""
    _not_negative(arpa_per_month, what="ARPA")
    return arpa_per_month * customer_lifetime(monthly_churn)


def ltv_from_margin(arpa_per_month: float, gross_margin: float, monthly_churn: float) -> float:
    """Lifetime value from gross profit: LTV = ARPA x gross margin / churn rate (both per month)."""
    if not 0 <= gross_margin <= 1:
        raise ValueError(f"a gross margin must be between 0 and 1, not {gross_margin}")
    return ltv_from_churn(arpa_per_month, monthly_churn) * gross_margin


def ltv_from_purchases(average_purchase: float, purchase_frequency: float, lifetime: float) -> float:
    """Lifetime value from purchases: LTV = average purchase x purchases per period x lifetime in periods.

    10,000 a month (one purchase a month) for 24 months is 240,000.
    """
    _not_negative(average_purchase, purchase_frequency, lifetime, what="purchase values, frequencies and lifetimes")
    return float(average_purchase * purchase_frequency * lifetime)


def ltv_net_of_costs(
    average_purchase: float,
    purchase_frequency: float,
    lifetime: float,
    acquisition_cost: float,
    retention_cost: float,
) -> float:
    """Lifetime value net of what the customer costs: LTV = average purchase x purchase frequency x lifetime
    - (acquisition cost + retention cost), both costs per customer, the retention cost over the whole lifetime."""
    _not_negative(acquisition_cost, retention_cost, what="costs")
    return ltv_from_purchases(average_purchase, purchase_frequency, lifetime) - (acquisition_cost + retention_cost)


def _start_mrr(movements: RevenueMovements) -> float:
    if movements.start_mrr == 0:
        raise UndefinedKPI("no recurring revenue at the start of the period")
    return movements.start_mrr


def _in_scale(answers: Iterable[int], scale: tuple[int, int], what: str) -> list[int]:
    scores = list(answers)
    low, high = scale
    wrong = [score for score in scores if not low <= score <= high or score != int(score)]
    if wrong:
        raise ValueError(f"{what} answers are whole numbers from {low} to {high}, not {wrong[:5]}")
    return scores


def _not_negative(*values: float, what: str) -> None:
    for value in values:
        if math.isnan(value) or value < 0:
            raise ValueError(f"{what} cannot be negative or NaN, got {value}")
