"""`GET /api/demo/customers`: demo mode only — signed demo identities for the in-app demo page."""

from fastapi import APIRouter, HTTPException, status

from api.deps import SessionDep, SettingsDep
from api.schemas import DemoCustomerPublic, DemoCustomersPublic
from keepwell import accounts, identity
from keepwell.segments import segment_of

router = APIRouter(prefix="/api/demo", tags=["demo"])


@router.get("/customers", response_model=DemoCustomersPublic)
def demo_customers(session: SessionDep, settings: SettingsDep) -> DemoCustomersPublic:
    if not settings.demo_mode:
        # Outside demo mode signatures come only from the host application.
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Not found")
    data = [
        DemoCustomerPublic(
            id=account.id,
            name=account.name,
            segment=segment_of(account).label,
            plan=account.plan,
            signature=identity.sign(account.id, settings.identity_secret),
        )
        for account in accounts.list_accounts(session)
    ]
    return DemoCustomersPublic(data=data, count=len(data))
