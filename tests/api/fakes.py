"""A stand-in for the Rasa server at the gateway's seam, for unit tests of the API only."""

import asyncio
from typing import Any

from api.services.rasa import RasaClient, RasaUnavailable


class FakeRasa(RasaClient):
    """Records what the gateway sends and answers with a scripted REST-channel reply.

    `available = False` refuses like a Rasa that is down; `gate`, when set, holds every answer until it is opened,
    like a Rasa waiting on a hung action server; `on_send` runs inside each call (to look at the log meanwhile).
    """

    def __init__(self, reply: list[dict[str, Any]] | None = None) -> None:
        self.reply = reply if reply is not None else [{"recipient_id": "x", "text": "Hello!"}]
        self.sent: list[tuple[str, str, dict[str, Any]]] = []
        self.resumed: list[str] = []
        self.held: list[tuple[str, str, dict[str, Any]]] = []
        self.available = True
        self.gate: asyncio.Event | None = None
        self.on_send: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def hang(self) -> None:
        """From now on, hold every answer until `answer_held` (like Rasa waiting on a hung action server)."""
        self.gate = asyncio.Event()

    def answer_held(self) -> None:
        """Let the held answers go (callable from the test's thread: the app runs in its own event loop)."""
        gate, self.gate = self.gate, None
        if gate is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(gate.set)

    async def aclose(self) -> None:
        return None

    async def send(self, conversation_id: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        if not self.available:
            raise RasaUnavailable("down")
        self.sent.append((conversation_id, text, metadata))
        if self.on_send is not None:
            self.on_send(conversation_id, text, metadata)
        if self.gate is not None:
            self._loop = asyncio.get_running_loop()
            await self.gate.wait()
            if not self.available:
                raise RasaUnavailable("went down while answering")
        return self.reply

    async def log_held_message(self, conversation_id: str, text: str, metadata: dict[str, Any]) -> dict[str, Any]:
        if not self.available:
            raise RasaUnavailable("down")
        self.held.append((conversation_id, text, metadata))
        return {"intent": {"name": "request_human", "confidence": 0.93}, "entities": []}

    async def resume(self, conversation_id: str) -> None:
        if not self.available:
            raise RasaUnavailable("down")
        self.resumed.append(conversation_id)

    async def status(self) -> tuple[bool, str]:
        return (True, "model loaded") if self.available else (False, "not reachable")
