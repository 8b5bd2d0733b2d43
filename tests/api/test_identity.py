"""api/services/identity.py: the customer a request proves (chat body or Authorization header), and what Rasa gets."""

import base64
import json
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, Any

import jwt
import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError

from api.main import create_app
from api.schemas import ChatIn
from api.services.identity import (
    IdentityRejected,
    customer_from_authorization,
    customer_from_chat,
    header_customer,
    unauthorized,
)
from api.settings import Settings
from keepwell import assertions, identity
from keepwell.bootstrap import prepare
from tests.api.conftest import IDENTITY_SECRET
from tests.api.fakes import FakeRasa

CAP = 12 * 3600
INTERNAL_SECRET = "api-test-internal-secret-of-32-bytes"
OTHER_SECRET = "someone-elses-secret-of-at-least-32-bytes"


def _settings(tmp_path: Path, **overrides: Any) -> Settings:
    fields: dict[str, Any] = {
        "data_dir": tmp_path,
        "demo_mode": True,
        "identity_secret": IDENTITY_SECRET,
        "internal_secret": INTERNAL_SECRET,
        "rate_limit_enabled": False,
        **overrides,
    }
    return Settings(**fields)


def _token(customer_id: str = "cus_001", secret: str = IDENTITY_SECRET, algorithm: str = "HS256", **claims: Any) -> str:
    now = int(time.time())
    payload = {"sub": customer_id, "iat": now, "exp": now + 600, **claims}
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, secret, algorithm=algorithm)


def _segment(obj: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def _rejected(call: Callable[[], object]) -> str:
    with pytest.raises(IdentityRejected) as caught:
        call()
    return caught.value.reason


# ---- chat bodies ------------------------------------------------------------------------------------------------


@pytest.fixture
def settings_on(tmp_path: Path) -> Settings:
    return _settings(tmp_path)  # demo mode: the legacy signature is allowed


@pytest.fixture
def settings_off(tmp_path: Path) -> Settings:
    return _settings(tmp_path, allow_static_signature=False)


def test_no_proof_is_an_anonymous_visitor(settings_on: Settings) -> None:
    assert customer_from_chat(ChatIn(message="hi"), settings_on) is None


def test_a_token_proves_its_customer(settings_off: Settings) -> None:
    assert customer_from_chat(ChatIn(message="hi", token=_token()), settings_off) == "cus_001"
    assert customer_from_chat(ChatIn(message="hi", token=_token(), customer_id="cus_001"), settings_off) == "cus_001"


def test_a_token_for_another_customer_than_customer_id_is_refused(settings_off: Settings) -> None:
    chat = ChatIn(message="hi", token=_token("cus_002"), customer_id="cus_001")
    assert _rejected(lambda: customer_from_chat(chat, settings_off)) == (
        "the token was issued for another customer than customer_id"
    )


def test_a_customer_id_alone_proves_nothing(settings_on: Settings, settings_off: Settings) -> None:
    chat = ChatIn(message="hi", customer_id="cus_001")
    assert _rejected(lambda: customer_from_chat(chat, settings_off)) == "customer_id needs a token proving it"
    assert _rejected(lambda: customer_from_chat(chat, settings_on)) == (
        "customer_id needs a token or a signature proving it"
    )


def test_the_legacy_signature_only_where_allowed(settings_on: Settings, settings_off: Settings) -> None:
    chat = ChatIn(message="hi", customer_id="cus_001", signature=identity.sign("cus_001", IDENTITY_SECRET))
    assert customer_from_chat(chat, settings_on) == "cus_001"
    assert _rejected(lambda: customer_from_chat(chat, settings_off)) == (
        "static signatures are not accepted here; send a token"
    )
    wrong = ChatIn(message="hi", customer_id="cus_001", signature=identity.sign("cus_002", IDENTITY_SECRET))
    assert _rejected(lambda: customer_from_chat(wrong, settings_on)) == "the signature does not match customer_id"


def test_static_signatures_are_off_by_default_outside_demo_mode(tmp_path: Path) -> None:
    production = _settings(tmp_path, demo_mode=False, rasa_token="a-real-rasa-token")
    assert not production.static_signature_allowed
    assert _settings(tmp_path, demo_mode=False, rasa_token="t", allow_static_signature=True).static_signature_allowed
    assert _settings(tmp_path).static_signature_allowed


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"token": "x" * 4097}, "token"),
        ({"token": ""}, "token"),
        ({"token": 42}, "token"),
        ({"token": _token(), "customer_id": "cus_001", "signature": "ab" * 32}, "either token or signature"),
        ({"signature": "ab" * 32}, "signature was given without customer_id"),
    ],
)
def test_chat_bodies_with_unusable_proofs_are_invalid(fields: dict[str, object], fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        ChatIn.model_validate({"message": "hi", **fields})


# ---- the Authorization header -----------------------------------------------------------------------------------


def test_no_authorization_header_is_anonymous(settings_on: Settings) -> None:
    assert customer_from_authorization(None, settings_on) is None
    assert customer_from_authorization("  ", settings_on) is None


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_a_bearer_token_proves_its_customer(settings_off: Settings, scheme: str) -> None:
    assert customer_from_authorization(f"{scheme} {_token()}", settings_off) == "cus_001"


def test_the_legacy_signature_header_only_where_allowed(settings_on: Settings, settings_off: Settings) -> None:
    header = f"Signature cus_001:{identity.sign('cus_001', IDENTITY_SECRET)}"
    assert customer_from_authorization(header, settings_on) == "cus_001"
    assert _rejected(lambda: customer_from_authorization(header, settings_off)) == (
        "static signatures are not accepted here; send a token"
    )


def test_a_customer_id_with_colons_in_the_signature_header(settings_on: Settings) -> None:
    header = f"Signature org:cus_001:{identity.sign('org:cus_001', IDENTITY_SECRET)}"
    assert customer_from_authorization(header, settings_on) == "org:cus_001"


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("Bearer", "the Authorization header must be `Bearer <token>`"),
        ("Basic Y3VzXzAwMTpwYXNzd29yZA==", "the Authorization header must be `Bearer <token>`"),
        (_token(), "the Authorization header must be `Bearer <token>`"),
        ("Bearer not-a-token", "the token is malformed"),
        (f"Bearer {_token(secret=OTHER_SECRET)}", "the token's signature does not match"),
        ("Signature cus_001", "the Authorization header must be `Signature <customer_id>:<signature>`"),
        ("Signature a b:00", "the Authorization header must be `Signature <customer_id>:<signature>`"),
        (f"Signature cus_001:{'0' * 64}", "the signature does not match customer_id"),
        ("Bearer " + "x" * 5000, "the Authorization header is too long"),
    ],
)
def test_a_header_that_does_not_prove_a_customer_is_refused(settings_on: Settings, header: str, reason: str) -> None:
    assert _rejected(lambda: customer_from_authorization(header, settings_on)) == reason


@pytest.fixture
def whoami(settings_off: Settings) -> TestClient:
    """A bare app with one route behind the `header_customer` dependency, as the history and events routes use it."""
    app = FastAPI()
    app.state.settings = settings_off

    @app.get("/whoami")
    def read(customer: Annotated[str | None, Depends(header_customer)]) -> dict[str, str | None]:
        return {"customer": customer}

    return TestClient(app)


def test_the_header_dependency_names_the_customer_or_answers_401(whoami: TestClient) -> None:
    assert whoami.get("/whoami").json() == {"customer": None}
    assert whoami.get("/whoami", headers={"Authorization": f"Bearer {_token()}"}).json() == {"customer": "cus_001"}
    expired = _token(iat=int(time.time()) - 4000, exp=int(time.time()) - 3000)
    response = whoami.get("/whoami", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401
    assert response.json() == {"detail": "Identity refused: the token has expired"}
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="keepwell", error="invalid_token"')


def test_unauthorized_is_a_401_with_the_reason_and_a_challenge() -> None:
    error = unauthorized(IdentityRejected("the token has expired"))
    assert error.status_code == 401
    assert error.detail == "Identity refused: the token has expired"
    assert error.headers == {
        "WWW-Authenticate": 'Bearer realm="keepwell", error="invalid_token", error_description="the token has expired"'
    }


# ---- through the HTTP API ---------------------------------------------------------------------------------------


@pytest.fixture
def make_client(tmp_path: Path) -> Iterator[Callable[..., tuple[TestClient, FakeRasa]]]:
    """Start the gateway with these settings overrides and a stand-in Rasa; return the client and the Rasa."""
    with ExitStack() as stack:
        started = 0

        def start(**overrides: Any) -> tuple[TestClient, FakeRasa]:
            nonlocal started
            started += 1
            settings = _settings(tmp_path / f"app{started}", **overrides)
            rasa = FakeRasa()
            app = create_app(settings, rasa=rasa)
            prepare(settings)
            return stack.enter_context(TestClient(app)), rasa

        yield start


def _now() -> int:
    return int(time.time())


def _tampered_payload() -> str:
    header, _payload, signature = _token().split(".")
    return f"{header}.{_segment({'sub': 'cus_002', 'exp': _now() + 60})}.{signature}"


def _tampered_signature() -> str:
    header, payload, signature = _token().split(".")
    return f"{header}.{payload}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"


def _unsigned() -> str:
    return f"{_segment({'alg': 'none', 'typ': 'JWT'})}.{_segment({'sub': 'cus_001', 'exp': _now() + 60})}."


def _rs256() -> str:
    # `cryptography` is not installed: the RSA signature is made up; the header alone must get it refused.
    return f"{_segment({'alg': 'RS256', 'typ': 'JWT'})}.{_segment({'sub': 'cus_001', 'exp': _now() + 60})}.c2ln"


BAD_TOKENS: dict[str, tuple[Callable[[], str], str]] = {
    "expired": (lambda: _token(iat=_now() - 4000, exp=_now() - 3000), "the token has expired"),
    "not yet valid": (lambda: _token(nbf=_now() + 600), "the token is not valid yet"),
    "issued in the future": (lambda: _token(iat=_now() + 600, exp=_now() + 900), "the token is not valid yet"),
    "tampered payload": (_tampered_payload, "the token's signature does not match"),
    "tampered signature": (_tampered_signature, "the token's signature does not match"),
    "wrong secret": (lambda: _token(secret=OTHER_SECRET), "the token's signature does not match"),
    "alg none": (_unsigned, "the token must be signed with HS256"),
    # HS512 wants a 64-byte key (PyJWT warns below that); the algorithm is refused before the key matters.
    "HS512": (lambda: _token(secret=OTHER_SECRET * 2, algorithm="HS512"), "the token must be signed with HS256"),
    "RS256": (_rs256, "the token must be signed with HS256"),
    "missing exp": (lambda: _token(exp=None), "the token has no exp claim"),
    "missing sub": (lambda: _token(sub=None), "the token has no sub claim"),
    "too long-lived": (
        lambda: _token(exp=_now() + CAP + 3600),
        f"the token lives longer than the {CAP} seconds allowed",
    ),
    "sub not a customer id": (lambda: _token("<script>"), "the token's sub claim is not a customer id"),
    "malformed": (lambda: "not-a-token", "the token is malformed"),
}


@pytest.mark.parametrize("case", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
def test_each_bad_token_is_a_401_with_a_clear_detail(
    make_client: Callable[..., tuple[TestClient, FakeRasa]], case: tuple[Callable[[], str], str]
) -> None:
    client, rasa = make_client()
    make, reason = case
    response = client.post("/api/chat", json={"message": "how is my account doing?", "token": make()})
    assert response.status_code == 401, response.text
    assert response.json()["detail"] == f"Identity refused: {reason}"
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    assert rasa.sent == []


def test_another_customers_token_is_a_401(make_client: Callable[..., tuple[TestClient, FakeRasa]]) -> None:
    client, rasa = make_client()
    response = client.post("/api/chat", json={"message": "hi", "customer_id": "cus_001", "token": _token("cus_002")})
    assert response.status_code == 401
    assert response.json()["detail"] == "Identity refused: the token was issued for another customer than customer_id"
    assert rasa.sent == []


def _customer_of(metadata: dict[str, Any], conversation_id: str) -> str | None:
    customer = metadata["customer"]
    assert set(customer) == {"id", "assertion"}
    return assertions.verify_assertion(customer["assertion"], conversation_id, INTERNAL_SECRET)


def test_rasa_gets_an_assertion_never_the_token(make_client: Callable[..., tuple[TestClient, FakeRasa]]) -> None:
    client, rasa = make_client(allow_static_signature=False)
    token = _token()
    response = client.post("/api/chat", json={"message": "how is my account doing?", "token": token})
    assert response.status_code == 200, response.text
    [(conversation_id, _text, metadata)] = rasa.sent
    assert response.json()["conversation_id"] == conversation_id
    assert _customer_of(metadata, conversation_id) == "cus_001"
    assert metadata["customer"]["id"] == "cus_001"
    dumped = json.dumps(metadata)
    assert token not in dumped and token.split(".")[2] not in dumped
    # The assertion is for the action server only: it is no customer token at the gateway.
    with pytest.raises(IdentityRejected):
        identity.verify_token(metadata["customer"]["assertion"], IDENTITY_SECRET, CAP)


def test_the_legacy_signature_is_accepted_when_allowed_and_never_forwarded(
    make_client: Callable[..., tuple[TestClient, FakeRasa]],
) -> None:
    client, rasa = make_client(allow_static_signature=True)
    signature = identity.sign("cus_001", IDENTITY_SECRET)
    response = client.post("/api/chat", json={"message": "hi", "customer_id": "cus_001", "signature": signature})
    assert response.status_code == 200, response.text
    [(conversation_id, _text, metadata)] = rasa.sent
    assert _customer_of(metadata, conversation_id) == "cus_001"
    assert signature not in json.dumps(metadata) and "signature" not in json.dumps(metadata)


def test_the_legacy_signature_is_a_401_when_not_allowed(
    make_client: Callable[..., tuple[TestClient, FakeRasa]],
) -> None:
    client, rasa = make_client(allow_static_signature=False)
    signature = identity.sign("cus_001", IDENTITY_SECRET)
    response = client.post("/api/chat", json={"message": "hi", "customer_id": "cus_001", "signature": signature})
    assert response.status_code == 401
    assert response.json()["detail"] == "Identity refused: static signatures are not accepted here; send a token"
    assert rasa.sent == []


def test_an_anonymous_visitor_reaches_rasa_without_a_customer(
    make_client: Callable[..., tuple[TestClient, FakeRasa]],
) -> None:
    client, rasa = make_client()
    assert client.post("/api/chat", json={"message": "hi"}).status_code == 200
    [(_conversation_id, _text, metadata)] = rasa.sent
    assert metadata["customer"] is None


def test_a_token_conversation_continues_with_a_fresh_token(
    make_client: Callable[..., tuple[TestClient, FakeRasa]],
) -> None:
    client, rasa = make_client()
    first = client.post("/api/chat", json={"message": "hi", "token": _token()}).json()
    later = _token(iat=_now() + 1, exp=_now() + 1200)  # a refreshed token for the same customer
    again = client.post(
        "/api/chat", json={"message": "and my plan?", "token": later, "conversation_id": first["conversation_id"]}
    )
    assert again.status_code == 200, again.text
    assert [_customer_of(metadata, cid) for cid, _text, metadata in rasa.sent] == ["cus_001", "cus_001"]
    other = client.post(
        "/api/chat", json={"message": "hi", "token": _token("cus_002"), "conversation_id": first["conversation_id"]}
    )
    assert other.status_code == 403
