"""actions/customer.py: the actions believe only the gateway's internal assertion for this very conversation."""

import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import Engine

from actions.account import ActionAccountHealth
from actions.customer import current_account, verified_customer_id
from actions.replies import SIGN_IN_INVITATION
from keepwell import assertions, identity
from tests.actions.conftest import INTERNAL_SECRET, SECRET, TrackerFactory

SENDER = "kZ3vQm9wXb2LpR7tYc4NsD8fGh1JkE6a"  # tests/actions/data/tracker.json
OTHER_CONVERSATION = "Q" * 32


def _assertion(customer_id: str = "cus_001", conversation_id: str = SENDER, **overrides: Any) -> str:
    now = int(time.time())
    claims = {"sub": customer_id, "cid": conversation_id, "aud": assertions.AUDIENCE, "iat": now, "exp": now + 900}
    secret = overrides.pop("secret", INTERNAL_SECRET)
    algorithm = overrides.pop("algorithm", "HS256")
    claims.update(overrides)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, secret, algorithm=algorithm)


def test_the_gateway_metadata_gives_the_asserted_customer(make_tracker: TrackerFactory) -> None:
    assert verified_customer_id(make_tracker(customer_id="cus_001"), INTERNAL_SECRET) == "cus_001"


def test_an_assertion_without_the_id_beside_it_is_enough(make_tracker: TrackerFactory) -> None:
    tracker = make_tracker(customer={"assertion": _assertion()})
    assert verified_customer_id(tracker, INTERNAL_SECRET) == "cus_001"


ANONYMOUS: dict[str, Callable[[], object]] = {
    "no customer": lambda: None,
    "a bare id as a string": lambda: "cus_001",
    "a bare id": lambda: {"id": "cus_001"},
    "the customer's legacy signature": lambda: {"id": "cus_001", "signature": identity.sign("cus_001", SECRET)},
    "the customer's token": lambda: {"id": "cus_001", "token": identity.mint_token("cus_001", SECRET, 600)},
    "the customer's token as assertion": lambda: {"assertion": identity.mint_token("cus_001", SECRET, 600)},
    "an expired assertion": lambda: {"assertion": _assertion(iat=int(time.time()) - 2000, exp=int(time.time()) - 60)},
    "an assertion issued in the future": lambda: {"assertion": _assertion(iat=int(time.time()) + 600)},
    "another conversation's assertion": lambda: {"assertion": _assertion(conversation_id=OTHER_CONVERSATION)},
    "an assertion under another secret": lambda: {"assertion": _assertion(secret=SECRET)},
    "an assertion for another audience": lambda: {"assertion": _assertion(aud="keepwell-gateway")},
    "an assertion without audience": lambda: {"assertion": _assertion(aud=None)},
    "an assertion without conversation": lambda: {"assertion": _assertion(cid=None)},
    "an assertion signed with HS512": lambda: {"assertion": _assertion(algorithm="HS512")},
    "an assertion whose id disagrees": lambda: {"id": "cus_002", "assertion": _assertion("cus_001")},
    "an assertion that is not a string": lambda: {"id": "cus_001", "assertion": 12345},
    "a garbled assertion": lambda: {"id": "cus_001", "assertion": "not.a.jwt"},
}


@pytest.mark.parametrize("customer", ANONYMOUS.values(), ids=ANONYMOUS.keys())
def test_anything_else_is_an_anonymous_visitor(make_tracker: TrackerFactory, customer: Callable[[], object]) -> None:
    assert verified_customer_id(make_tracker(customer=customer()), INTERNAL_SECRET) is None


def test_metadata_that_is_not_an_object_is_anonymous(make_tracker: TrackerFactory) -> None:
    tracker = make_tracker(customer_id="cus_001")
    tracker.latest_message["metadata"] = ["customer", "cus_001"]
    assert verified_customer_id(tracker, INTERNAL_SECRET) is None
    tracker.latest_message.pop("metadata")
    assert verified_customer_id(tracker, INTERNAL_SECRET) is None


def test_settings_supply_the_internal_secret(engine: Engine, make_tracker: TrackerFactory) -> None:
    customer_id, account = current_account(make_tracker(customer_id="cus_001"))
    assert customer_id == "cus_001"
    assert account is not None and account.id == "cus_001"


@pytest.mark.anyio
async def test_an_action_refuses_an_expired_assertion(engine: Engine, make_tracker: TrackerFactory) -> None:
    expired = _assertion(iat=int(time.time()) - 2000, exp=int(time.time()) - 60)
    tracker = make_tracker("how are we doing", "ask_account_health", customer={"id": "cus_001", "assertion": expired})
    dispatcher = CollectingDispatcher()
    await ActionAccountHealth().run(dispatcher, tracker, {})
    assert [m["text"] for m in dispatcher.messages] == [SIGN_IN_INVITATION]
