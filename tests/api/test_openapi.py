"""api/openapi.py: the published schema documents the errors the gateway really answers, with their bodies."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.schemas import ErrorPublic, ValidationErrorPublic

_REF = "#/components/schemas/"


@pytest.fixture
def document(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, ops in document["paths"].items() for method, op in ops.items()]


def _schema_ref(response: dict[str, Any]) -> str:
    return str(response["content"]["application/json"]["schema"]["$ref"])


def test_every_documented_422_is_the_gateways_own(document: dict[str, Any]) -> None:
    documented = [(m, p, op["responses"]["422"]) for m, p, op in _operations(document) if "422" in op["responses"]]
    assert {(m, p) for m, p, _ in documented} >= {
        ("post", "/api/chat"),
        ("get", "/api/conversations/{conversation_id}/messages"),
        ("get", "/api/conversations/{conversation_id}/events"),
    }
    own = {("post", "/api/ingest/events"): f"{_REF}IngestValidationErrorPublic"}  # extends ValidationErrorPublic
    assert {(m, p): _schema_ref(response) for m, p, response in documented if (m, p) in own} == own
    others = {_schema_ref(response) for m, p, response in documented if (m, p) not in own}
    assert others == {f"{_REF}ValidationErrorPublic"}
    schemas = document["components"]["schemas"]
    assert schemas["IngestValidationErrorPublic"]["required"] == ["detail", "errors"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    assert schemas["ValidationErrorPublic"]["required"] == ["detail", "errors"]


def test_the_422_answered_is_the_one_documented(client: TestClient) -> None:
    response = client.post("/api/chat", json={"message": "", "surprise": 1})
    assert response.status_code == 422
    body = response.json()
    assert set(body) == set(ValidationErrorPublic.model_fields)
    assert ValidationErrorPublic.model_validate(body).errors == [
        "message: String should have at least 1 character",
        "surprise: Extra inputs are not permitted",
    ]


def test_an_unreadable_body_is_a_documented_400(client: TestClient, document: dict[str, Any]) -> None:
    assert _schema_ref(document["paths"]["/api/chat"]["post"]["responses"]["400"]) == f"{_REF}ErrorPublic"
    response = client.post("/api/chat", content=b'{"message": "\xff"}', headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert set(ErrorPublic.model_validate(response.json()).model_dump()) == set(response.json())


def test_error_headers_are_documented(document: dict[str, Any]) -> None:
    chat = document["paths"]["/api/chat"]["post"]["responses"]
    assert chat["429"]["headers"]["Retry-After"]["required"] is True
    assert chat["401"]["headers"]["WWW-Authenticate"]["required"] is True
    history = document["paths"]["/api/conversations/{conversation_id}/messages"]["get"]["responses"]
    assert history["401"]["headers"]["WWW-Authenticate"]["required"] is True


def test_the_demo_customers_404_is_documented(document: dict[str, Any]) -> None:
    responses = document["paths"]["/api/demo/customers"]["get"]["responses"]
    assert _schema_ref(responses["404"]) == f"{_REF}ErrorPublic"


def test_a_chat_answer_links_to_its_history_and_events(document: dict[str, Any]) -> None:
    links = document["paths"]["/api/chat"]["post"]["responses"]["200"]["links"]
    for name, path in (("history", "messages"), ("events", "events")):
        target = links[name]["operationRef"].removeprefix("#/paths/").replace("~1", "/").removesuffix("/get")
        assert target == f"/api/conversations/{{conversation_id}}/{path}"
        assert target in document["paths"]
        assert links[name]["parameters"] == {"conversation_id": "$response.body#/conversation_id"}


@pytest.mark.parametrize(
    ("body", "accepted"),
    [
        ({"message": "hi"}, True),
        ({"message": " \t\u3000\x1c"}, False),  # whitespace only, by Python's and by the schema's (ECMAScript) reading
        ({"message": "hi", "conversation_id": "a" * 32}, True),
        ({"message": "hi", "conversation_id": "a" * 32 + "\n"}, False),  # `$` in Python's re allowed a newline
        ({"message": "hi", "signature": "ab"}, False),
        ({"message": "hi", "customer_id": "cus_001", "signature": "ab", "token": "t"}, False),
    ],
)
def test_chat_refuses_the_bodies_its_published_rules_refuse(
    client: TestClient, body: dict[str, Any], accepted: bool
) -> None:
    assert (client.post("/api/chat", json=body).status_code != 422) is accepted
