"""keepwell/conversations/review.py: tags, private notes and the review status of a conversation."""

import pytest
from sqlalchemy.orm import Session

from keepwell.conversations import review
from keepwell.models import OfferEvent
from tests.keepwell.conversations.conftest import World


def test_tags_are_normalised_once_and_removable(world_session: tuple[Session, World]) -> None:
    session, world = world_session
    assert review.add_tag(session, "conv_c", "  Bug   Report ", world.csm) == "bug report"
    assert review.add_tag(session, "conv_c", "bug report", world.csm) is None  # had it already
    assert review.state(session, "conv_c").tags == ["bug report"]
    assert review.remove_tag(session, "conv_c", "BUG report") is True
    assert review.remove_tag(session, "conv_c", "bug report") is False
    assert review.state(session, "conv_c").tags == []


@pytest.mark.parametrize("tag", ["", "   ", "-leading", "x" * 41, "<b>", "a/b"])
def test_a_malformed_tag_is_refused(world_session: tuple[Session, World], tag: str) -> None:
    session, world = world_session
    with pytest.raises(review.ReviewError, match="A tag is 1 to 40"):
        review.add_tag(session, "conv_c", tag, world.csm)


def test_a_conversation_holds_at_most_twenty_tags(world_session: tuple[Session, World]) -> None:
    session, world = world_session
    for n in range(review.MAX_TAGS):
        review.add_tag(session, "conv_c", f"tag {n}", world.csm)
    with pytest.raises(review.ReviewError, match="at most 20 tags"):
        review.add_tag(session, "conv_c", "one more", world.csm)


def test_notes_keep_their_author_and_order(world_session: tuple[Session, World]) -> None:
    session, world = world_session
    first = review.add_note(session, "conv_b", "  Called them; they stay.  ", world.csm)
    review.add_note(session, "conv_b", "<script>x</script>", world.other_csm)
    notes = review.state(session, "conv_b").notes
    assert [(n.author_name, n.text) for n in notes] == [
        ("Casey", "Called them; they stay."),
        ("Robin", "<script>x</script>"),
    ]
    assert notes[0].id == first.id and first.created_at.tzinfo is not None


@pytest.mark.parametrize(("text", "message"), [("   ", "Write something"), ("x" * 4001, "at most 4,000")])
def test_an_empty_or_long_note_is_refused(world_session: tuple[Session, World], text: str, message: str) -> None:
    session, world = world_session
    with pytest.raises(review.ReviewError, match=message):
        review.add_note(session, "conv_b", text, world.csm)
    assert review.state(session, "conv_b").notes == []


def test_the_review_status_changes_with_who_and_when(world_session: tuple[Session, World]) -> None:
    session, world = world_session
    assert review.set_status(session, "conv_a", "reviewed", world.csm) == "new"
    state = review.state(session, "conv_a")
    assert (state.status, state.status_label, state.reviewed_by) == ("reviewed", "Reviewed", "csm1@example.test")
    with pytest.raises(review.ReviewError, match="one of new, needs_review, reviewed"):
        review.set_status(session, "conv_a", "done", world.csm)


def test_an_unknown_conversation_is_missing(world_session: tuple[Session, World]) -> None:
    session, world = world_session
    for act in (
        lambda: review.add_tag(session, "nope", "x", world.csm),
        lambda: review.add_note(session, "nope", "x", world.csm),
        lambda: review.set_status(session, "nope", "new", world.csm),
        lambda: review.state(session, "nope"),
    ):
        with pytest.raises(review.ConversationMissing):
            act()


def test_the_offers_shown_in_the_conversation_are_listed(world_session: tuple[Session, World]) -> None:
    session, _ = world_session
    session.add(OfferEvent(account_id="cus_a", offer_id="addon-automations", event="shown", conversation_id="conv_a"))
    session.add(OfferEvent(account_id="cus_a", offer_id="addon-sso", event="shown", conversation_id="elsewhere"))
    session.flush()
    assert [(o.offer_id, o.event) for o in review.state(session, "conv_a").offers] == [("addon-automations", "shown")]
