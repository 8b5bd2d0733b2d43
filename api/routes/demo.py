"""`GET /api/demo/customers`: demo mode only — demo identities (fresh tokens) for the in-app demo page."""

import time
from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Response, status

from api.deps import SessionDep, SettingsDep
from api.schemas import DemoCustomerPublic, DemoCustomersPublic, ErrorPublic
from keepwell import accounts, identity
from keepwell.segments import segment_of

router = APIRouter(prefix="/api/demo", tags=["demo"])

# A demo token lives an hour (well under the lifetime cap); the demo page fetches fresh ones when it reloads.
DEMO_TOKEN_LIFETIME_S = 3600


@router.get(
    "/customers",
    response_model=DemoCustomersPublic,
    responses={404: {"model": ErrorPublic, "description": "Outside demo mode"}},
)
def demo_customers(response: Response, session: SessionDep, settings: SettingsDep) -> DemoCustomersPublic:
    if not settings.demo_mode:
        # Outside demo mode identities come only from the host application.
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Not found")
    response.headers["Cache-Control"] = "no-store"  # it hands out credentials
    issued = int(time.time())
    lifetime = min(DEMO_TOKEN_LIFETIME_S, settings.identity_token_max_lifetime_s)
    expires_at = datetime.fromtimestamp(issued + lifetime, UTC)
    data = [
        DemoCustomerPublic(
            id=account.id,
            name=account.name,
            segment=segment_of(account).label,
            plan=account.plan,
            token=identity.mint_token(account.id, settings.identity_secret, lifetime, now=issued),
            token_expires_at=expires_at,
            signature=identity.sign(account.id, settings.identity_secret)
            if settings.static_signature_allowed
            else None,
        )
        for account in accounts.list_accounts(session)
    ]
    return DemoCustomersPublic(data=data, count=len(data))
