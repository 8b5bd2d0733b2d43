"""Rasa's REST-channel output turned into the replies the log stores and the widget shows."""

from typing import Any

from keepwell.conversations import Reply


def shape_replies(raw: list[Any]) -> list[Reply]:
    """Keep text messages with their buttons; attach sources to the text they belong to.

    Rasa sends a bot message's `custom` payload as a separate item after its text, so sources found in a custom item
    join the text message before it. Anything malformed is dropped, never passed on.
    """
    replies: list[Reply] = []
    for item in raw:
        if not isinstance(item, dict):
            continue
        custom = item.get("custom") if isinstance(item.get("custom"), dict) else {}
        sources = _sources(custom.get("sources"))
        text = item.get("text") or custom.get("text")
        if isinstance(text, str) and text.strip():
            buttons = _buttons(item.get("buttons") or custom.get("buttons"))
            replies.append(Reply(text=text, buttons=buttons, sources=sources))
        elif sources and replies:
            last = replies[-1]
            replies[-1] = Reply(text=last.text, buttons=last.buttons, sources=[*last.sources, *sources], role=last.role)
    return replies


def _sources(raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        return []
    return [
        {"title": str(s.get("title", "")), "url": str(s["url"]), **_score(s)}
        for s in raw
        if isinstance(s, dict) and isinstance(s.get("url"), str) and s.get("url")
    ]


def _score(source: dict[str, Any]) -> dict[str, float]:
    # Kept for the console (how sure the knowledge base was); the widget ignores it.
    score = source.get("score")
    return {"score": float(score)} if isinstance(score, int | float) and not isinstance(score, bool) else {}


def _buttons(raw: Any) -> list[dict[str, str]]:
    if not isinstance(raw, list):
        return []
    return [
        {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
        for b in raw
        if isinstance(b, dict) and b.get("title") and b.get("payload")
    ]
