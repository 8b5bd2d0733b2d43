"""Sending a `Reply` through the Rasa dispatcher in the shape the gateway expects."""

from rasa_sdk.executor import CollectingDispatcher

from actions.replies import Reply


def send(dispatcher: CollectingDispatcher, reply: Reply) -> None:
    """Text and buttons as a normal message; sources travel in the message's custom payload."""
    custom = {"sources": reply.sources} if reply.sources else None
    dispatcher.utter_message(text=reply.text, buttons=reply.buttons or [], json_message=custom)
