"""The CSM console: one router per concept, gathered into `router`; `_pages` holds what the pages share."""

from fastapi import APIRouter

from api.routes.console import (
    analytics,
    api_keys,
    articles,
    audit,
    auth,
    conversations,
    customers,
    feedback,
    flags,
    handoffs,
    missing,
    privacy,
    review,
    saved_views,
    success,
    unanswered,
    users,
)
from api.routes.console._pages import admin_required, csrf_rejected, login_required

router = APIRouter()
for _module in (
    auth,
    conversations,
    review,
    saved_views,
    handoffs,
    flags,
    unanswered,
    feedback,
    success,
    customers,
    analytics,
    articles,
    users,
    api_keys,
    audit,
    privacy,
):
    router.include_router(_module.router)
# Last: its catch-all answers any console page not found above.
router.include_router(missing.router)

__all__ = ["admin_required", "csrf_rejected", "login_required", "router"]
