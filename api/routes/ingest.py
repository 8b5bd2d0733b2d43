"""`POST /api/ingest/events`: a company's own systems push usage snapshots, survey answers and subscription changes,
authenticated by an API key with the `ingest` scope (created by an admin in the console), rate-limited per key."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import IntegrityError

from api.deps import RateLimiterDep, SessionDep, SettingsDep
from api.openapi import RETRY_AFTER, WWW_AUTHENTICATE
from api.schemas import (
    ErrorPublic,
    IngestBatchIn,
    IngestItemErrorPublic,
    IngestResultPublic,
    IngestValidationErrorPublic,
)
from api.services.ingest import ingest
from api.services.rate_limits import Check
from keepwell import api_keys
from keepwell.api_keys import ApiKeyView, InvalidApiKey, ScopeDenied

router = APIRouter(prefix="/api/ingest", tags=["ingest"])

SCOPE = "ingest"
_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key with the `ingest` scope, created by an admin in the console (API keys)",
)


def _unauthorized(reason: str, invalid: bool) -> HTTPException:
    # RFC 6750: a request without credentials gets the bare challenge; a bad key gets error="invalid_token".
    challenge = 'Bearer realm="keepwell-ingest"' + (', error="invalid_token"' if invalid else "")
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=reason, headers={"WWW-Authenticate": challenge})


def ingest_key(
    session: SessionDep,
    settings: SettingsDep,
    limiter: RateLimiterDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> ApiKeyView:
    """The API key the request carries, when it may ingest; each request counts against the key's rate limit."""
    if credentials is None:
        raise _unauthorized("send an API key as Authorization: Bearer <key>", invalid=False)
    try:
        key = api_keys.authenticate(session, credentials.credentials, SCOPE)
    except InvalidApiKey:
        raise _unauthorized("the API key is not valid, or was revoked", invalid=True) from None
    except ScopeDenied:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="this API key may not ingest (no ingest scope)") from None
    session.commit()  # the key's last use
    limiter.enforce(
        [
            Check(
                "ingest-key",
                f"api-key:{key.id}",
                settings.ingest_rate_limit_per_key,
                "Too many batches with this API key in a short time; wait, then send the batch again.",
            )
        ]
    )
    return key


IngestKey = Annotated[ApiKeyView, Depends(ingest_key)]


@router.post(
    "/events",
    response_model=IngestResultPublic,
    responses={
        401: {"model": ErrorPublic, "description": "No API key, or not a valid one", "headers": WWW_AUTHENTICATE},
        403: {"model": ErrorPublic, "description": "The API key does not have the ingest scope"},
        409: {"model": ErrorPublic, "description": "The batch met a concurrent change; nothing was written"},
        422: {
            "model": IngestValidationErrorPublic,
            "description": "The batch was refused and nothing written: each failing item with its index, field, reason",
        },
        429: {"model": ErrorPublic, "description": "Too many batches with this key", "headers": RETRY_AFTER},
    },
)
def ingest_events(batch: IngestBatchIn, key: IngestKey, session: SessionDep) -> IngestResultPublic | JSONResponse:
    """Write a batch of up to 1,000 items (usage snapshots, survey answers, subscription changes) all together, or
    nothing when any item fails.

    Each item's `type` is `usage`, `survey` or `subscription`; its other fields are the importer's columns for that
    kind (keepwell/importing/SCHEMA.md). Every item names an account (and a survey answer may name a contact) that
    already exists. Items are written by their natural key (usage: account and period end; answers and
    subscriptions: their `external_id`), so sending a batch again changes nothing. A subscription change brings the
    account's current plan, MRR, seats and renewal date in step.
    """
    outcome = ingest(session, batch.items)
    if outcome.errors:
        session.rollback()
        return _refused(
            [IngestItemErrorPublic(item=error.item, field=error.field, reason=error.reason) for error in outcome.errors]
        )
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise HTTPException(
            status.HTTP_409_CONFLICT, detail="the batch met a concurrent change; nothing was written, send it again"
        ) from None
    return IngestResultPublic(received=len(batch.items), written=outcome.written)


def _refused(items: list[IngestItemErrorPublic]) -> JSONResponse:
    sentences = [f"items[{error.item}]{'.' + error.field if error.field else ''}: {error.reason}" for error in items]
    body = IngestValidationErrorPublic(detail="; ".join(sentences[:20]), errors=sentences, items=items)
    return JSONResponse(status_code=status.HTTP_422_UNPROCESSABLE_CONTENT, content=body.model_dump())
