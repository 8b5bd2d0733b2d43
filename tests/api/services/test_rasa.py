"""api/services/rasa.py: Rasa's status read defensively (a proxy or a half-started server answers oddly)."""

import asyncio

import httpx
import pytest

from api.services.rasa import RasaClient


@pytest.mark.parametrize(
    ("status", "body", "ready"),
    [
        (200, {"model_file": "models/keepwell.tar.gz"}, True),
        (200, {"model_file": None}, False),
        (200, "<html>Bad gateway</html>", False),
        (200, ["not", "a", "dict"], False),
        (502, {"model_file": "x"}, False),
    ],
)
def test_status_is_ready_only_with_a_model_loaded(status: int, body: object, ready: bool) -> None:
    def answer(_request: httpx.Request) -> httpx.Response:
        if isinstance(body, str):
            return httpx.Response(status, text=body)
        return httpx.Response(status, json=body)

    http = httpx.AsyncClient(base_url="http://rasa.test", transport=httpx.MockTransport(answer))
    client = RasaClient("http://rasa.test", "token", 5.0, http=http)
    is_ready, explanation = asyncio.run(client.status())
    assert is_ready is ready
    assert explanation
