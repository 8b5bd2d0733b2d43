"""Customer identity proofs: short-lived HS256 tokens from the host application, and the legacy static signature.

A host application that knows who is signed in mints a JWT under the shared identity secret (`sub` = customer id,
`exp` required) and hands it to the widget; the gateway checks it with `verify_token`. The static HMAC signature of
the customer id (`sign`/`verify`) is the legacy proof: it never expires, so it is off by default outside demo mode.
"""

import hashlib
import hmac
import math
import re
import time
from typing import Any

import jwt
from jwt import exceptions as jwt_errors

# A customer id as hosts send it (also the API's `customer_id` pattern).
CUSTOMER_ID_PATTERN = r"^[A-Za-z0-9_.:@-]{1,64}$"
ALGORITHM = "HS256"
# Clocks of the host application and the gateway may disagree by this much (exp, nbf and iat are checked with it).
DEFAULT_LEEWAY_S = 30.0

_CUSTOMER_ID = re.compile(CUSTOMER_ID_PATTERN)
_TIME_CLAIMS = ("exp", "nbf", "iat")


class IdentityRejected(Exception):
    """A proof of identity was given but does not hold; `reason` is short and safe to show to the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def is_customer_id(value: object) -> bool:
    """Whether `value` is a well-formed customer id."""
    return isinstance(value, str) and _CUSTOMER_ID.fullmatch(value) is not None


def mint_token(customer_id: str, secret: str, lifetime_s: int, now: float | None = None, **extra_claims: Any) -> str:
    """A customer token as a host application mints it (the demo, the docs and the tests use this one).

    Args:
        customer_id: the `sub` claim.
        secret: the identity secret shared with Keepwell.
        lifetime_s: seconds from `iat` to `exp`.
        now: the issue time (epoch seconds); the current time by default.
        extra_claims: more claims (for example `nbf`); a claim given as None is left out (`iat=None`).
    """
    if not is_customer_id(customer_id):
        raise ValueError(f"not a customer id: {customer_id!r}")
    if lifetime_s <= 0:
        raise ValueError("lifetime_s must be positive")
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {"sub": customer_id, "iat": issued, "exp": issued + lifetime_s, **extra_claims}
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, secret, algorithm=ALGORITHM)


def verify_token(token: str, secret: str, max_lifetime_s: float, leeway_s: float = DEFAULT_LEEWAY_S) -> str:
    """The customer id a token proves.

    Only HS256 under `secret` is accepted; `sub` and `exp` are required, `nbf` and `iat` are honoured, and a token
    may not live longer than `max_lifetime_s` (from `iat`, or from now when it has none), so a leaked token is
    worth little.

    Raises:
        IdentityRejected: the token is expired, not yet valid, tampered with, signed otherwise, malformed, too
            long-lived, or its `sub` is not a customer id.
    """
    if not isinstance(token, str) or not token:
        raise IdentityRejected("the token is malformed")
    claims = _decode(token, secret, leeway_s)
    for name in _TIME_CLAIMS:
        # PyJWT coerces with int(): a string or a boolean would pass there; a JWT NumericDate is a number.
        value = claims.get(name)
        if value is not None and not _is_number(value):
            raise IdentityRejected(f"the token's {name} claim is not a number")
    start = claims["iat"] if "iat" in claims else time.time()
    if claims["exp"] - start > max_lifetime_s:
        raise IdentityRejected(f"the token lives longer than the {int(max_lifetime_s)} seconds allowed")
    if not is_customer_id(claims["sub"]):
        raise IdentityRejected("the token's sub claim is not a customer id")
    return str(claims["sub"])


def _decode(token: str, secret: str, leeway_s: float) -> dict[str, Any]:
    try:
        return jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]}, leeway=leeway_s
        )  # fmt: skip
    except jwt_errors.ExpiredSignatureError:
        raise IdentityRejected("the token has expired") from None
    except jwt_errors.ImmatureSignatureError:
        raise IdentityRejected("the token is not valid yet") from None
    except jwt_errors.InvalidAlgorithmError:
        raise IdentityRejected(f"the token must be signed with {ALGORITHM}") from None
    except jwt_errors.InvalidSignatureError:
        raise IdentityRejected("the token's signature does not match") from None
    except jwt_errors.MissingRequiredClaimError as error:
        raise IdentityRejected(f"the token has no {error.claim} claim") from None
    except jwt_errors.InvalidSubjectError:
        raise IdentityRejected("the token's sub claim is not a customer id") from None
    except jwt_errors.InvalidAudienceError:
        raise IdentityRejected("the token names an audience (aud) Keepwell does not accept") from None
    except jwt_errors.InvalidIssuedAtError:
        raise IdentityRejected("the token's iat claim is not a number") from None
    except jwt_errors.InvalidTokenError:
        raise IdentityRejected("the token is malformed") from None


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


# ---- legacy: the static signature -------------------------------------------------------------------------------


def sign(customer_id: str, secret: str) -> str:
    """Legacy: the hex HMAC-SHA256 of `customer_id` under `secret`, as a host application computed it before tokens.

    It never expires; prefer `mint_token`. The gateway accepts it only when static signatures are allowed.
    """
    return hmac.new(secret.encode(), customer_id.encode(), hashlib.sha256).hexdigest()


def verify(customer_id: str, signature: str | None, secret: str) -> bool:
    """Legacy: check a static signature in constant time; a missing signature never verifies."""
    if not signature:
        return False
    # Bytes, not str: compare_digest refuses non-ASCII str, and a malformed signature is simply wrong.
    return hmac.compare_digest(sign(customer_id, secret).encode(), signature.lower().encode())
