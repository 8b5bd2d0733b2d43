"""keepwell/identity.py: the HMAC signature the host application computes."""

import hashlib
import hmac

import pytest

from keepwell.identity import sign, verify


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
