"""The analytics page's charts, built from a `keepwell.analytics.Report`; ids are the CSV names."""

from collections.abc import Callable

from api.routes.console._charts import Chart, Series, percent
from keepwell.analytics import Report
from keepwell.analytics.conversations import CHANNEL_LABELS
from keepwell.kpis import KPI

# The book KPIs the page shows, in this order (keepwell.kpis computes them; nothing is re-derived here).
BOOK_KPIS = ("mrr", "arpa", "churn_rate", "nrr", "nps", "ltv")


def charts(report: Report) -> list[Chart]:
    return [build(report) for build in _BUILDERS.values()]


def by_id(report: Report, chart_id: str) -> Chart | None:
    """One chart, reading only the part of the report it needs; None for an unknown id."""
    build = _BUILDERS.get(chart_id)
    return build(report) if build else None


def _days(report: Report) -> list[str]:
    return [day.isoformat() for day in report.period.days]


def _volume(report: Report) -> Chart:
    channels = list(report.volume[0].by_channel) if report.volume else []
    return Chart(
        id="conversations",
        title="Conversations per day by channel",
        type="stacked",
        label_header="Day (UTC)",
        labels=_days(report),
        series=[
            *(Series(CHANNEL_LABELS.get(c, c), [d.by_channel[c] for d in report.volume]) for c in channels),
            Series("Total", [d.total for d in report.volume], hidden=True),
        ],
        note="Conversations in which the customer wrote, on the day they started.",
        summary=[("Conversations", f"{report.conversations:,}")],
    )


def _containment(report: Report) -> Chart:
    days = report.containment
    return Chart(
        id="containment",
        title="Containment and handoff rate per day",
        type="line",
        label_header="Day (UTC)",
        labels=_days(report),
        series=[
            Series("Resolved without a person (%)", [percent(d.containment) for d in days], "percent"),
            Series(
                "Handed to a person (%)",
                [None if d.containment is None else percent(1 - d.containment) for d in days],
                "percent",
            ),
            Series("Conversations", [d.conversations for d in days], hidden=True),
            Series("Handed over", [d.handed_over for d in days], hidden=True),
        ],
        note="A conversation is contained when nobody asked for a person in it.",
        summary=[("Containment", _pct(report.containment_rate)), ("Handoff rate", _pct(report.handoff_rate))],
    )


def _wait(report: Report) -> Chart:
    stats = report.handoffs
    return Chart(
        id="first-reply",
        title="Time to the first human reply",
        type="bar",
        label_header="Wait",
        labels=list(stats.wait_buckets),
        series=[Series("Handoffs", list(stats.wait_buckets.values()))],
        note="Handoffs requested in the period that a person answered, by how long the customer waited.",
        empty_text="No handoff was answered by a person in this period.",
        summary=[
            ("Handoffs", f"{stats.requested:,}"),
            ("Answered by a person", f"{stats.replied:,}"),
            ("Mean wait", _duration(stats.mean_wait_s)),
            ("Median wait", _duration(stats.median_wait_s)),
            ("90th percentile", _duration(stats.p90_wait_s)),
        ],
    )


def _handoff_reasons(report: Report) -> Chart:
    reasons = report.handoffs.by_kind
    return Chart(
        id="handoff-reasons",
        title="Why a person was needed",
        type="hbar",
        label_header="Reason",
        labels=list(reasons),
        series=[Series("Handoffs", list(reasons.values()))],
        empty_text="No handoff in this period.",
    )


def _fallbacks(report: Report) -> Chart:
    days = report.fallbacks
    return Chart(
        id="fallbacks",
        title="Fallback rate per day",
        type="line",
        label_header="Day (UTC)",
        labels=_days(report),
        series=[
            Series("Not understood (%)", [percent(d.rate) for d in days], "percent"),
            Series("Messages read", [d.messages for d in days], hidden=True),
            Series("Not understood", [d.not_understood for d in days], hidden=True),
        ],
        note="Customer messages the assistant read that fell back or scored below the confidence threshold.",
        summary=[("Fallback rate", _pct(report.fallback_rate))],
    )


def _csat(report: Report) -> Chart:
    csat = report.csat
    return Chart(
        id="csat",
        title="CSAT after a person helped",
        type="bar",
        label_header="Score",
        labels=[str(score) for score in csat.distribution],
        series=[Series("Answers", list(csat.distribution.values()))],
        note="Answers to the rating question asked when a CSM closes a conversation, 1 (very unsatisfied) to 5.",
        empty_text="No rating was given in this period.",
        summary=[
            ("Answers", f"{csat.answers:,}"),
            ("Average", "—" if csat.average is None else f"{csat.average:.2f} / 5"),
            ("Satisfied (4-5)", _pct(csat.satisfied_share)),
        ],
    )


def _intents(report: Report) -> Chart:
    return Chart(
        id="intents",
        title="Top intents",
        type="hbar",
        label_header="Intent",
        labels=[c.key for c in report.intents],
        series=[Series("Messages", [c.count for c in report.intents])],
        empty_text="No customer message was read in this period.",
    )


def _articles(report: Report) -> Chart:
    found = report.articles
    return Chart(
        id="articles",
        title="Top articles served",
        type="hbar",
        label_header="Article",
        labels=[a.title for a in found],
        series=[
            Series("Times cited", [a.count for a in found]),
            Series("Conversations", [a.conversations for a in found], hidden=True),
            Series("URL", [a.url for a in found], "text", hidden=True),
        ],
        note="Knowledge-base sources the assistant's answers cited.",
        empty_text="The assistant cited no article in this period.",
    )


def _articles_before_handoff(report: Report) -> Chart:
    found = report.articles_before_handoff
    return Chart(
        id="articles-before-handoff",
        title="Articles that led to a handoff",
        type="hbar",
        label_header="Article",
        labels=[a.title for a in found],
        series=[
            Series("Handoffs after it", [a.count for a in found]),
            Series("URL", [a.url for a in found], "text", hidden=True),
        ],
        note="Articles cited in a conversation before the customer was handed to a person: answers to improve.",
        empty_text="No article came before a handoff in this period.",
    )


def _offers(report: Report) -> Chart:
    rows = report.offers
    shown, clicked, accepted = (sum(getattr(r, step) for r in rows) for step in ("shown", "clicked", "accepted"))
    return Chart(
        id="offers",
        title="Offers shown, clicked and accepted",
        type="bar",
        label_header="Offer",
        labels=[r.offer_id for r in rows],
        series=[
            Series("Shown", [r.shown for r in rows]),
            Series("Clicked", [r.clicked for r in rows]),
            Series("Accepted", [r.accepted for r in rows]),
        ],
        empty_text="No offer was shown in this period.",
        summary=[
            ("Shown", f"{shown:,}"),
            ("Clicked", f"{clicked:,} ({_pct(clicked / shown if shown else None)})"),
            ("Accepted", f"{accepted:,} ({_pct(accepted / clicked if clicked else None)} of clicks)"),
        ],
    )


def book(report: Report) -> Chart:
    shown = [report.book[name] for name in BOOK_KPIS]
    return Chart(
        id="book-kpis",
        title="Book KPIs in full",
        type="table",
        label_header="KPI",
        labels=[kpi.label for kpi in shown],
        series=[
            Series("Value", [kpi.value for kpi in shown], "text"),
            Series("Shown as", [kpi_text(kpi) for kpi in shown], "text"),
            Series("Unit", [kpi.unit for kpi in shown], "text"),
            Series("Note", [kpi.note or "" for kpi in shown], "text"),
        ],
        note=(
            f"The whole book from {report.period.first} to {report.period.last}: MRR, ARPA and LTV at the end; churn "
            "and NRR of the customers paying at the start; NPS from the answers given in the period."
        ),
    )


# Chart id -> builder, in page order (the ids are also the builders' own `Chart.id`, checked by the tests).
_BUILDERS: dict[str, Callable[[Report], Chart]] = {
    "conversations": _volume,
    "containment": _containment,
    "first-reply": _wait,
    "handoff-reasons": _handoff_reasons,
    "fallbacks": _fallbacks,
    "csat": _csat,
    "intents": _intents,
    "articles": _articles,
    "articles-before-handoff": _articles_before_handoff,
    "offers": _offers,
    "book-kpis": book,
}


def kpi_text(kpi: KPI) -> str:
    """A KPI as a person reads it; an undefined one says so (its note says why)."""
    if kpi.value is None:
        return "not defined"
    value = kpi.value
    if kpi.unit == "usd_per_month":
        return f"${value:,.0f} / month"
    if kpi.unit == "usd":
        return f"${value:,.0f}"
    if kpi.unit == "share":
        return f"{value * 100:.1f} %"
    if kpi.unit == "months":
        return f"{value:.1f} months"
    return f"{value:,.0f}"


def _pct(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.1f} %"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"
