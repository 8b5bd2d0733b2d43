"""api/services/replies.py: Rasa's REST output shaped into replies; malformed parts dropped, never passed on."""

from api.services.replies import shape_replies
from keepwell.conversations import Reply


def test_text_buttons_and_sources_with_their_score() -> None:
    raw = [
        {"text": "Open Settings.", "buttons": [{"title": "More", "payload": "/more"}, {"title": "", "payload": "/x"}]},
        {"custom": {"sources": [{"title": "Invite", "url": "/help/a", "score": 0.71}, {"title": "no url"}]}},
        {"text": "   "},
        {"custom": {"text": "From a custom payload"}},
    ]
    assert shape_replies(raw) == [
        Reply(
            "Open Settings.",
            [{"title": "More", "payload": "/more"}],
            [{"title": "Invite", "url": "/help/a", "score": 0.71}],
        ),
        Reply("From a custom payload"),
    ]


def test_sources_before_any_text_and_odd_items_are_dropped() -> None:
    assert shape_replies([{"custom": {"sources": [{"url": "/a"}]}}, 5, None, "x", {"text": 7}]) == []
