"""keepwell/assertions.py: the gateway's short-lived assertion of the verified customer, for the action server only."""

import base64
import json
import logging
import time
from typing import Any

import jwt
import pytest

from keepwell.assertions import AUDIENCE, assert_customer, customer_metadata, verify_assertion
from keepwell.identity import IdentityRejected, verify_token
from keepwell.settings import CoreSettings

SECRET = "internal-test-secret-" + "0123456789abcdef" * 3  # 69 bytes: long enough for HS512 too
CONVERSATION = "c" * 32
OTHER_CONVERSATION = "d" * 32


def _segment(obj: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def _assertion(secret: str = SECRET, algorithm: str = "HS256", **overrides: Any) -> str:
    now = int(time.time())
    claims = {"sub": "cus_001", "cid": CONVERSATION, "aud": AUDIENCE, "iat": now, "exp": now + 900, **overrides}
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, secret, algorithm=algorithm)


def test_an_assertion_names_the_customer_of_its_conversation() -> None:
    assert verify_assertion(assert_customer("cus_001", CONVERSATION, SECRET, 900), CONVERSATION, SECRET) == "cus_001"


def test_an_assertion_carries_sub_cid_aud_iat_and_exp() -> None:
    assertion = assert_customer("cus_001", CONVERSATION, SECRET, 900, now=1_767_225_600)
    assert jwt.get_unverified_header(assertion)["alg"] == "HS256"
    claims = jwt.decode(assertion, options={"verify_signature": False})
    assert claims == {
        "sub": "cus_001",
        "cid": CONVERSATION,
        "aud": AUDIENCE,
        "iat": 1_767_225_600,
        "exp": 1_767_226_500,
    }


def test_asserting_a_bad_customer_id_is_a_bug() -> None:
    with pytest.raises(ValueError):
        assert_customer("not an id", CONVERSATION, SECRET, 900)


REFUSED: dict[str, Any] = {
    "another conversation": lambda: assert_customer("cus_001", OTHER_CONVERSATION, SECRET, 900),
    "expired": lambda: assert_customer("cus_001", CONVERSATION, SECRET, 900, now=time.time() - 1000),
    "issued in the future": lambda: assert_customer("cus_001", CONVERSATION, SECRET, 900, now=time.time() + 600),
    "another secret": lambda: assert_customer("cus_001", CONVERSATION, "x" + SECRET, 900),
    "another audience": lambda: _assertion(aud="keepwell-gateway"),
    "several audiences": lambda: _assertion(aud=[AUDIENCE, "keepwell-gateway"]),
    "no audience": lambda: _assertion(aud=None),
    "no conversation": lambda: _assertion(cid=None),
    "no customer": lambda: _assertion(sub=None),
    "no iat": lambda: _assertion(iat=None),
    "no exp": lambda: _assertion(exp=None),
    "a sub that is not a customer id": lambda: _assertion(sub="a b"),
    "HS512": lambda: _assertion(algorithm="HS512"),
    "alg none": lambda: f"{_segment({'alg': 'none'})}.{_segment({'sub': 'cus_001', 'cid': CONVERSATION})}.",
    "tampered": lambda: _assertion().rsplit(".", 1)[0] + "." + _assertion(sub="cus_002").rsplit(".", 1)[1],
    "garbage": lambda: "not.an.assertion",
    "empty": lambda: "",
    "not a string": lambda: 42,
}


@pytest.mark.parametrize("make", REFUSED.values(), ids=REFUSED.keys())
def test_anything_else_is_refused(make: Any) -> None:
    assert verify_assertion(make(), CONVERSATION, SECRET) is None


def test_a_refusal_is_logged_without_the_assertion(caplog: pytest.LogCaptureFixture) -> None:
    expired = assert_customer("cus_001", CONVERSATION, SECRET, 900, now=time.time() - 1000)
    with caplog.at_level(logging.WARNING, logger="keepwell.assertions"):
        assert verify_assertion(expired, CONVERSATION, SECRET) is None
    assert "refused" in caplog.text
    assert expired not in caplog.text and expired.split(".")[1] not in caplog.text


def test_an_assertion_is_no_customer_token() -> None:
    # Even under the same secret, the audience keeps it from standing in for a customer token at the gateway.
    with pytest.raises(IdentityRejected):
        verify_token(assert_customer("cus_001", CONVERSATION, SECRET, 900), SECRET, 3600)


def test_metadata_carries_the_id_and_a_fresh_assertion(tmp_path: Any) -> None:
    settings = CoreSettings(
        data_dir=tmp_path, demo_mode=True, internal_secret=SECRET, internal_assertion_ttl_seconds=60
    )
    customer = customer_metadata("cus_001", CONVERSATION, settings)
    assert customer is not None and set(customer) == {"id", "assertion"} and customer["id"] == "cus_001"
    assert verify_assertion(customer["assertion"], CONVERSATION, SECRET) == "cus_001"
    claims = jwt.decode(customer["assertion"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 60
    assert customer_metadata(None, CONVERSATION, settings) is None
