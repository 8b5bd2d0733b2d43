"""Articles served and articles served before a handoff, unnested from `messages.sources` on both databases."""

from sqlalchemy.orm import Session

from keepwell.analytics import articles
from tests.keepwell.analytics.conftest import BILLING, PERIOD, TEAM


def test_articles_served_are_counted_per_citation_and_conversation(session: Session) -> None:
    served = articles.served(session, PERIOD)
    # team: c1 twice, c2 twice, c3 once (after its handoff, still served) = 5 in 3 conversations;
    # billing: c1, c3 = 2 in 2. c4's null and empty sources add nothing; c6's old article is before the period.
    assert [(a.url, a.title, a.count, a.conversations) for a in served] == [
        (TEAM["url"], TEAM["title"], 5, 3),
        (BILLING["url"], BILLING["title"], 2, 2),
    ]


def test_articles_before_a_handoff_count_each_handoff_once(session: Session) -> None:
    before = articles.before_handoff(session, PERIOD)
    # c2's handoff came after team (cited twice: one handoff); c3's after billing (team came later). Ties by url.
    assert [(a.url, a.count, a.conversations) for a in before] == [(BILLING["url"], 1, 1), (TEAM["url"], 1, 1)]


def test_the_limit_keeps_the_top_articles(session: Session) -> None:
    assert [a.url for a in articles.served(session, PERIOD, limit=1)] == [TEAM["url"]]
