"""keepwell/conversations/saved_views.py: a CSM's named inbox filters, theirs alone."""

import pytest
from sqlalchemy.orm import Session

from keepwell.conversations import saved_views
from tests.keepwell.conversations.conftest import World


def test_a_csm_saves_lists_opens_and_deletes_their_views(world_session: tuple[Session, World]) -> None:
    session, world = world_session
    red = saved_views.save(session, world.csm.id, "  Red   churn ", "band=red&page=2&q=cancel")
    saved_views.save(session, world.csm.id, "Anonymous", "channel=other")
    assert (red.name, red.query) == ("Red churn", "q=cancel&band=red")  # canonical, without the page
    assert red.filters.band == "red"
    assert [v.name for v in saved_views.list_mine(session, world.csm.id)] == ["Anonymous", "Red churn"]
    assert saved_views.get_mine(session, world.csm.id, red.id) == red
    replaced = saved_views.save(session, world.csm.id, "Red churn", "band=red")
    assert replaced.id == red.id and replaced.query == "band=red"
    saved_views.delete_mine(session, world.csm.id, red.id)
    assert [v.name for v in saved_views.list_mine(session, world.csm.id)] == ["Anonymous"]


def test_another_csm_never_sees_opens_or_deletes_them(world_session: tuple[Session, World]) -> None:
    session, world = world_session
    mine = saved_views.save(session, world.csm.id, "Mine", "review=new")
    assert saved_views.list_mine(session, world.other_csm.id) == []
    with pytest.raises(saved_views.ViewNotFound):
        saved_views.get_mine(session, world.other_csm.id, mine.id)
    with pytest.raises(saved_views.ViewNotFound):
        saved_views.delete_mine(session, world.other_csm.id, mine.id)
    assert saved_views.list_mine(session, world.csm.id) == [mine]
    # The same name is free for the other CSM.
    assert saved_views.save(session, world.other_csm.id, "Mine", "review=reviewed").id != mine.id


@pytest.mark.parametrize(
    ("name", "query", "message"),
    [("", "review=new", "Name the view"), ("x" * 81, "review=new", "Name the view"),
     ("Nothing", "page=2", "at least one filter"), ("Bad", "csat=9", "csat: one of")],
)  # fmt: skip
def test_a_view_without_name_or_filters_is_refused(
    world_session: tuple[Session, World], name: str, query: str, message: str
) -> None:
    session, world = world_session
    with pytest.raises(saved_views.ViewError, match=message):
        saved_views.save(session, world.csm.id, name, query)
    assert saved_views.list_mine(session, world.csm.id) == []
