"""Client for the Rasa server: the REST channel for messages, the token-protected HTTP API for the rest."""

from typing import Any

import httpx


class RasaUnavailable(Exception):
    """Rasa did not answer, or answered with an error; the caller turns this into a 503."""


class RasaClient:
    """Talks to one Rasa server over a shared async HTTP connection pool."""

    def __init__(self, base_url: str, token: str, timeout: float, http: httpx.AsyncClient | None = None) -> None:
        self._token = token
        self._http = http or httpx.AsyncClient(base_url=base_url, timeout=timeout)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def send(self, conversation_id: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        """Send a user message and return the bot's raw REST-channel messages."""
        payload = {"sender": conversation_id, "message": text, "metadata": metadata}
        try:
            response = await self._http.post("/webhooks/rest/webhook", json=payload)
            response.raise_for_status()
        except httpx.HTTPError as error:
            raise RasaUnavailable(f"Rasa did not answer: {error.__class__.__name__}") from error
        try:
            body = response.json()
        except ValueError as error:
            raise RasaUnavailable("Rasa answered with a body that is not JSON") from error
        if not isinstance(body, list):
            raise RasaUnavailable("Rasa answered with an unexpected body")
        return body

    async def log_held_message(self, conversation_id: str, text: str, metadata: dict[str, Any]) -> dict[str, Any]:
        """Record a message in the conversation, with what NLU understood, without the bot acting on it; return
        what NLU understood (Rasa's parse result).

        Used while a person has the conversation: the message is parsed (not processed), so no command the
        customer types (such as `/restart`) can wake the bot, and the CSM still sees intent and confidence.
        """
        try:
            parsed = await self._http.post("/model/parse", params={"token": self._token}, json={"text": text})
            parsed.raise_for_status()
            parse_data = parsed.json()
            if not isinstance(parse_data, dict):
                raise ValueError("the parse result is not an object")
            event = {"event": "user", "text": text, "parse_data": parse_data, "metadata": metadata}
            logged = await self._http.post(
                f"/conversations/{conversation_id}/tracker/events",
                params={"token": self._token, "include_events": "NONE"},
                json=event,
            )
            logged.raise_for_status()
        except (httpx.HTTPError, ValueError) as error:
            raise RasaUnavailable(f"Rasa did not log the message: {error.__class__.__name__}") from error
        return parse_data

    async def resume(self, conversation_id: str) -> None:
        """Let the bot answer again in a conversation a handoff paused."""
        try:
            response = await self._http.post(
                f"/conversations/{conversation_id}/tracker/events",
                params={"token": self._token, "include_events": "NONE"},
                # The pause cut the turn short before `action_listen`; without it, rules would not match the
                # next message (their states start from a listening bot).
                json=[{"event": "resume"}, {"event": "action", "name": "action_listen"}],
            )
            response.raise_for_status()
        except httpx.HTTPError as error:
            raise RasaUnavailable(f"Rasa did not resume the conversation: {error.__class__.__name__}") from error

    async def status(self) -> tuple[bool, str]:
        """Whether Rasa is up with a model loaded, and a one-line explanation."""
        try:
            response = await self._http.get("/status", params={"token": self._token}, timeout=3.0)
        except httpx.HTTPError as error:
            return False, f"not reachable ({error.__class__.__name__})"
        if response.status_code != 200:
            return False, f"status answered {response.status_code}"
        try:
            model = response.json().get("model_file")
        except (ValueError, AttributeError):  # not Rasa's JSON (a proxy's error page, ...)
            return False, "status answered something that is not Rasa's status"
        return (True, f"model {model} loaded") if model else (False, "no model loaded")
