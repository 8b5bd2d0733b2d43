"""keepwell/identity.py: customer tokens (HS256 JWT) and the legacy static HMAC signature."""

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest

from keepwell.identity import IdentityRejected, mint_token, sign, verify, verify_token

SECRET = "identity-test-secret-" + "0123456789abcdef" * 3  # 69 bytes: long enough for HS512 too
CAP = 3600


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segment(obj: object) -> str:
    return _b64(json.dumps(obj, separators=(",", ":")).encode())


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"sub": "cus_001", "iat": now, "exp": now + 600, **overrides}
    return {k: v for k, v in claims.items() if v is not None}


def _token(secret: str = SECRET, algorithm: str = "HS256", **overrides: Any) -> str:
    return jwt.encode(_claims(**overrides), secret, algorithm=algorithm)


def _refused(token: str, **kwargs: Any) -> str:
    with pytest.raises(IdentityRejected) as caught:
        verify_token(token, SECRET, CAP, **kwargs)
    assert caught.value.reason == str(caught.value)
    assert not token or token not in caught.value.reason
    return caught.value.reason


# ---- tokens ---------------------------------------------------------------------------------------------------


def test_a_minted_token_proves_its_customer() -> None:
    token = mint_token("cus_001", SECRET, 600)
    assert verify_token(token, SECRET, CAP) == "cus_001"


def test_a_minted_token_carries_sub_iat_and_exp_as_hs256() -> None:
    token = mint_token("cus_001", SECRET, 600, now=1_767_225_600, name="Copperleaf")
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": False, "verify_iat": False})
    assert claims == {"sub": "cus_001", "iat": 1_767_225_600, "exp": 1_767_226_200, "name": "Copperleaf"}


def test_a_claim_given_as_none_is_left_out() -> None:
    token = mint_token("cus_001", SECRET, 600, iat=None)
    assert "iat" not in jwt.decode(token, SECRET, algorithms=["HS256"])


@pytest.mark.parametrize(("customer_id", "lifetime"), [("a b", 600), ("", 600), ("x" * 65, 600), ("cus_001", 0)])
def test_minting_refuses_a_bad_customer_id_or_lifetime(customer_id: str, lifetime: int) -> None:
    with pytest.raises(ValueError):
        mint_token(customer_id, SECRET, lifetime)


def test_an_expired_token_is_refused() -> None:
    now = int(time.time())
    assert _refused(_token(iat=now - 700, exp=now - 60)) == "the token has expired"


def test_clock_skew_within_the_leeway_is_tolerated_and_no_more() -> None:
    now = int(time.time())
    just_expired = _token(iat=now - 700, exp=now - 5)
    assert verify_token(just_expired, SECRET, CAP) == "cus_001"
    assert _refused(just_expired, leeway_s=0) == "the token has expired"


def test_a_token_not_valid_yet_is_refused() -> None:
    assert _refused(_token(nbf=int(time.time()) + 300)) == "the token is not valid yet"


def test_a_token_issued_in_the_future_is_refused() -> None:
    now = int(time.time())
    assert _refused(_token(iat=now + 300, exp=now + 900)) == "the token is not valid yet"


def test_a_tampered_payload_is_refused() -> None:
    header, _payload, signature = _token().split(".")
    forged = f"{header}.{_segment(_claims(sub='cus_002'))}.{signature}"
    assert _refused(forged) == "the token's signature does not match"


def test_a_tampered_signature_is_refused() -> None:
    header, payload, signature = _token().split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert _refused(f"{header}.{payload}.{flipped}") == "the token's signature does not match"


def test_a_token_under_another_secret_is_refused() -> None:
    other = _token(secret="another-secret-" + "0123456789abcdef" * 3)
    assert _refused(other) == "the token's signature does not match"


def test_another_customers_token_proves_that_customer_only() -> None:
    # The caller compares it with the customer id it was sent with (api/services/identity.py).
    assert verify_token(_token(sub="cus_002"), SECRET, CAP) == "cus_002"


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_an_unsigned_token_is_refused(alg: str) -> None:
    unsigned = f"{_segment({'alg': alg, 'typ': 'JWT'})}.{_segment(_claims())}."
    assert _refused(unsigned) == "the token must be signed with HS256"


@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
def test_another_hmac_algorithm_is_refused(algorithm: str) -> None:
    assert _refused(_token(algorithm=algorithm)) == "the token must be signed with HS256"


def test_an_rs256_token_is_refused() -> None:
    # The `cryptography` package is not installed, so the RSA signature is made up: refused on the header alone.
    rs256 = f"{_segment({'alg': 'RS256', 'typ': 'JWT'})}.{_segment(_claims())}.{_b64(b'x' * 256)}"
    assert _refused(rs256) == "the token must be signed with HS256"


def test_a_token_with_the_secret_as_an_rs256_public_key_is_refused() -> None:
    # Algorithm confusion: an HS256 signature presented under another alg name never reaches HMAC verification.
    header = _segment({"alg": "RS256", "typ": "JWT"})
    payload = _segment(_claims())
    signature = _b64(hmac.new(SECRET.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest())
    assert _refused(f"{header}.{payload}.{signature}") == "the token must be signed with HS256"


@pytest.mark.parametrize("claim", ["exp", "sub"])
def test_a_token_without_a_required_claim_is_refused(claim: str) -> None:
    assert _refused(_token(**{claim: None})) == f"the token has no {claim} claim"


@pytest.mark.parametrize("sub", [123, ["cus_001"], "", "cus 001", "<script>", "x" * 65])
def test_a_sub_that_is_not_a_customer_id_is_refused(sub: object) -> None:
    assert _refused(_token(sub=sub)) == "the token's sub claim is not a customer id"


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
def test_a_time_claim_that_is_not_a_number_is_refused(claim: str) -> None:
    # PyJWT reads these with int(), which takes a string of digits; a JWT NumericDate is a JSON number.
    now = int(time.time())
    value = {"exp": str(now + 600), "iat": str(now), "nbf": str(now)}[claim]
    assert _refused(_token(**{claim: value})) == f"the token's {claim} claim is not a number"


def test_a_token_living_longer_than_the_cap_is_refused() -> None:
    now = int(time.time())
    assert verify_token(_token(iat=now, exp=now + CAP), SECRET, CAP) == "cus_001"
    assert _refused(_token(iat=now, exp=now + CAP + 1)) == f"the token lives longer than the {CAP} seconds allowed"


def test_without_iat_the_lifetime_counts_from_now() -> None:
    now = int(time.time())
    assert verify_token(_token(iat=None, exp=now + CAP - 60), SECRET, CAP) == "cus_001"
    assert _refused(_token(iat=None, exp=now + CAP + 60)) == f"the token lives longer than the {CAP} seconds allowed"


def test_a_token_for_an_audience_is_refused() -> None:
    assert _refused(_token(aud="another-service")) == "the token names an audience (aud) Keepwell does not accept"


@pytest.mark.parametrize("token", ["", "not-a-token", "a.b", "a.b.c", "é.é.é", f"{_segment({'alg': 'HS256'})}.e30"])
def test_a_malformed_token_is_refused(token: str) -> None:
    assert _refused(token) == "the token is malformed"


@pytest.mark.parametrize("payload", [_b64(b"not json"), _segment(["cus_001"])])
def test_a_payload_that_is_not_a_claims_object_is_refused(payload: str) -> None:
    # The signature is checked first; a correctly signed one is refused as malformed.
    header = _segment({"alg": "HS256", "typ": "JWT"})
    assert _refused(f"{header}.{payload}.c2ln") == "the token's signature does not match"
    signature = _b64(hmac.new(SECRET.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest())
    assert _refused(f"{header}.{payload}.{signature}") == "the token is malformed"


def test_a_token_that_is_not_a_string_is_refused() -> None:
    with pytest.raises(IdentityRejected):
        verify_token(None, SECRET, CAP)  # type: ignore[arg-type]


# ---- legacy static signature ----------------------------------------------------------------------------------


def test_signature_is_the_hex_hmac_sha256_of_the_customer_id() -> None:
    assert sign("cus_001", "s3cret") == hmac.new(b"s3cret", b"cus_001", hashlib.sha256).hexdigest()


def test_a_valid_signature_verifies_in_either_case() -> None:
    signature = sign("cus_001", "s3cret")
    assert verify("cus_001", signature, "s3cret")
    assert verify("cus_001", signature.upper(), "s3cret")


@pytest.mark.parametrize(
    "signature", [None, "", sign("cus_002", "s3cret"), sign("cus_001", "other"), "é" * 64, "zz", "0" * 64]
)
def test_anything_else_does_not(signature: str | None) -> None:
    assert not verify("cus_001", signature, "s3cret")
