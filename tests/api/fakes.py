"""A stand-in for the Rasa server at the gateway's seam, for unit tests of the API only."""

from typing import Any

from api.services.rasa import RasaClient, RasaUnavailable


class FakeRasa(RasaClient):
    """Records what the gateway sends and answers with a scripted REST-channel reply."""

    def __init__(self, reply: list[dict[str, Any]] | None = None) -> None:
        self.reply = reply if reply is not None else [{"recipient_id": "x", "text": "Hello!"}]
        self.sent: list[tuple[str, str, dict[str, Any]]] = []
        self.resumed: list[str] = []
        self.held: list[tuple[str, str, dict[str, Any]]] = []
        self.available = True

    async def aclose(self) -> None:
        return None

    async def send(self, conversation_id: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        if not self.available:
            raise RasaUnavailable("down")
        self.sent.append((conversation_id, text, metadata))
        return self.reply

    async def log_held_message(self, conversation_id: str, text: str, metadata: dict[str, Any]) -> None:
        if not self.available:
            raise RasaUnavailable("down")
        self.held.append((conversation_id, text, metadata))

    async def resume(self, conversation_id: str) -> None:
        if not self.available:
            raise RasaUnavailable("down")
        self.resumed.append(conversation_id)

    async def status(self) -> tuple[bool, str]:
        return (True, "model loaded") if self.available else (False, "not reachable")
