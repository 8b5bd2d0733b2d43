"""No customer credential at rest: the token (or legacy signature) a customer proves itself with is never forwarded
to Rasa, stored in any database, or written to any log; Rasa gets a short-lived internal assertion instead."""

import time

import httpx
import pytest

from keepwell import identity
from tests.e2e.conftest import IDENTITY_SECRET, RunningSystem

pytestmark = pytest.mark.e2e


def test_the_customers_token_and_signature_are_nowhere_at_rest(system: RunningSystem) -> None:
    token = identity.mint_token("cus_002", IDENTITY_SECRET, 600)
    signature = identity.sign("cus_003", IDENTITY_SECRET)
    by_token = system.chat("how is my account doing?", token=token)
    by_signature = system.chat("what plan are we on?", customer_id="cus_003", signature=signature)
    assert by_token.status_code == 200 and by_signature.status_code == 200
    assert "/100" in by_token.json()["messages"][0]["text"], "the account answer proves the identity reached the action"
    history = httpx.get(
        f"{system.base_url}/api/conversations/{by_token.json()['conversation_id']}/messages",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert history.status_code == 200
    time.sleep(1)  # let every process flush its log

    stores = sorted(system.data_dir.glob("*.db*")) + sorted(system.logs.rglob("*.log*"))
    assert any(path.name.startswith("conversations.db") for path in stores), "the tracker store is searched"
    assert any(path.name.startswith("keepwell.db") for path in stores), "the app database is searched"
    assert any(path.name.startswith("gateway") for path in stores), "the gateway's log is searched"
    for path in stores:
        content = path.read_bytes()
        for secret in (token, signature):
            assert secret.encode() not in content, f"a customer credential is in {path.name}"
        # A JWT's signature part alone is as good as the whole token to find a leak in another encoding.
        assert token.rsplit(".", 1)[1].encode() not in content, f"the token's signature is in {path.name}"
    tracker = b"".join(path.read_bytes() for path in system.data_dir.glob("conversations.db*"))
    assert b'"assertion"' in tracker, "the actions got the internal assertion instead"
