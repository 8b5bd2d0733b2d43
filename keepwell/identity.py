"""Customer identity: the host application signs a customer id with HMAC-SHA256 under a shared secret."""

import hashlib
import hmac


def sign(customer_id: str, secret: str) -> str:
    """Return the hex HMAC-SHA256 of `customer_id` under `secret`, as the host application computes it."""
    return hmac.new(secret.encode(), customer_id.encode(), hashlib.sha256).hexdigest()


def verify(customer_id: str, signature: str | None, secret: str) -> bool:
    """Check a signature in constant time; a missing signature never verifies."""
    if not signature:
        return False
    # Bytes, not str: compare_digest refuses non-ASCII str, and a malformed signature is simply wrong.
    return hmac.compare_digest(sign(customer_id, secret).encode(), signature.lower().encode())
