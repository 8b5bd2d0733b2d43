"""keepwell/kpis/formulas.py: every KPI against numbers worked out by hand, and the cases they leave undefined."""

import math

import pytest

from keepwell.kpis import formulas as f
from keepwell.kpis.formulas import RevenueMovements, UndefinedKPI


def test_mrr_sums_the_terms_and_arr_is_twelve_times_it() -> None:
    assert f.mrr([480.0, 1200.0, 0.0, 320.5]) == 2000.5
    assert f.mrr([]) == 0.0
    assert f.arr(2000.5) == 24006.0


def test_arpa_is_mrr_over_paying_accounts() -> None:
    assert f.arpa(2000.0, 8) == 250.0
    with pytest.raises(UndefinedKPI, match="no paying account"):
        f.arpa(0.0, 0)


def test_churn_rate_is_lost_over_customers_at_the_start() -> None:
    # 200 customers on 1 May, 6 of them gone by 1 June: 3 %.
    assert f.churn_rate(200, 6) == pytest.approx(0.03)
    assert f.churn_rate(200, 0) == 0.0
    with pytest.raises(UndefinedKPI, match="no customer at the start"):
        f.churn_rate(0, 0)
    with pytest.raises(ValueError, match="7 customers lost out of 6"):
        f.churn_rate(6, 7)


def test_a_quarters_churn_as_the_monthly_rate_that_compounds_to_it() -> None:
    # 1 - 0.9 ** (1/3) = 0.034511...; check by compounding it back.
    monthly = f.monthly_rate(0.10, 3)
    assert monthly == pytest.approx(0.0345106, abs=1e-6)
    assert (1 - monthly) ** 3 == pytest.approx(0.90)
    assert f.monthly_rate(0.03, 1) == pytest.approx(0.03)
    with pytest.raises(ValueError):
        f.monthly_rate(1.5, 1)
    with pytest.raises(ValueError):
        f.monthly_rate(0.1, 0)


def test_revenue_movements_split_expansion_contraction_and_churn() -> None:
    # (start, end) MRR: one grows 100 -> 150, one shrinks 200 -> 120, one leaves (300), one stays at 400.
    movements = f.revenue_movements([(100.0, 150.0), (200.0, 120.0), (300.0, 0.0), (400.0, 400.0)])
    assert movements == RevenueMovements(start_mrr=1000.0, expansion=50.0, contraction=80.0, churned=300.0)


def test_gross_and_net_revenue_retention() -> None:
    movements = RevenueMovements(start_mrr=1000.0, expansion=50.0, contraction=80.0, churned=300.0)
    assert f.gross_revenue_retention(movements) == pytest.approx(0.62)  # (1000 - 80 - 300) / 1000
    assert f.net_revenue_retention(movements) == pytest.approx(0.67)  # (1000 + 50 - 80 - 300) / 1000
    growing = RevenueMovements(start_mrr=10_000.0, expansion=2_500.0, contraction=300.0, churned=200.0)
    assert f.net_revenue_retention(growing) == pytest.approx(1.20)
    assert f.gross_revenue_retention(growing) == pytest.approx(0.95)
    with pytest.raises(UndefinedKPI, match="no recurring revenue"):
        f.net_revenue_retention(RevenueMovements(0.0, 0.0, 0.0, 0.0))


def test_customer_retention_cost_is_spend_over_customers() -> None:
    assert f.customer_retention_cost(30_000.0, 120) == 250.0
    with pytest.raises(UndefinedKPI):
        f.customer_retention_cost(30_000.0, 0)


def test_csat_is_the_top_two_box_share() -> None:
    # 4s and 5s: 3 of 5 answers.
    assert f.csat([5, 4, 4, 3, 1]) == pytest.approx(0.6)
    assert f.csat([3]) == 0.0
    with pytest.raises(UndefinedKPI, match="no CSAT answer"):
        f.csat([])
    with pytest.raises(ValueError, match=r"from 1 to 5, not \[0, 6\]"):
        f.csat([5, 0, 6])


def test_nps_is_promoters_minus_detractors_in_percent() -> None:
    # 10 answers: promoters 9, 10, 10, 9 (4); passives 7, 8 (2); detractors 6, 0, 3, 5 (4): (4 - 4) / 10 = 0.
    assert f.nps([9, 10, 10, 9, 7, 8, 6, 0, 3, 5]) == 0.0
    # 5 promoters, 2 passives, 1 detractor of 8: (5 - 1) / 8 x 100 = 50.
    assert f.nps([10, 10, 9, 9, 9, 8, 7, 6]) == 50.0
    assert f.nps([0, 6]) == -100.0
    assert f.nps([7, 8]) == 0.0
    with pytest.raises(UndefinedKPI):
        f.nps([])
    with pytest.raises(ValueError):
        f.nps([11])


def test_ltv_from_churn_and_from_margin() -> None:
    # ARPA 500 a month, 2 % monthly churn: a 50-month lifetime, LTV 25,000; at a 80 % margin 20,000.
    assert f.customer_lifetime(0.02) == pytest.approx(50.0)
    assert f.ltv_from_churn(500.0, 0.02) == pytest.approx(25_000.0)
    assert f.ltv_from_margin(500.0, 0.8, 0.02) == pytest.approx(20_000.0)
    with pytest.raises(ValueError):
        f.ltv_from_margin(500.0, 80, 0.02)


def test_ltv_is_undefined_without_churn_never_infinite() -> None:
    for compute in (
        lambda: f.customer_lifetime(0.0),
        lambda: f.ltv_from_churn(500.0, 0.0),
        lambda: f.ltv_from_margin(500.0, 0.8, 0.0),
    ):
        with pytest.raises(UndefinedKPI, match="no customer churned"):
            compute()


def test_ltv_from_purchases_the_worked_check_from_the_field() -> None:
    # 10,000 a month for 24 months is an LTV of 240,000.
    assert f.ltv_from_purchases(10_000.0, 1.0, 24.0) == 240_000.0
    # 4 purchases of 50 a month for 18 months: 3,600.
    assert f.ltv_from_purchases(50.0, 4.0, 18.0) == 3_600.0


def test_ltv_net_of_acquisition_and_retention_cost() -> None:
    # 240,000 - (15,000 to win the customer + 24 months x 1,000 to keep it) = 201,000.
    assert f.ltv_net_of_costs(10_000.0, 1.0, 24.0, 15_000.0, 24_000.0) == 201_000.0
    with pytest.raises(ValueError, match="costs cannot be negative"):
        f.ltv_net_of_costs(10_000.0, 1.0, 24.0, -1.0, 0.0)


def test_monthly_churn_lifetime_and_ltv_agree_with_the_purchase_formula() -> None:
    # With monthly billing, ARPA / churn and ARPA x 1 x (1 / churn) are the same number.
    assert f.ltv_from_purchases(500.0, 1.0, f.customer_lifetime(0.04)) == pytest.approx(f.ltv_from_churn(500.0, 0.04))


@pytest.mark.parametrize("bad", [-1.0, math.nan])
def test_negative_or_nan_money_is_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="cannot be negative or NaN"):
        f.mrr([100.0, bad])
    with pytest.raises(ValueError):
        f.arr(bad)
