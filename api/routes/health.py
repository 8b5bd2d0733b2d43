"""`GET /api/health`: ready only when Rasa, the action server and the knowledge base all are."""

import httpx
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import RasaDep, SettingsDep
from api.schemas import ComponentHealthPublic, HealthPublic

router = APIRouter(prefix="/api", tags=["health"])


@router.get("/health", response_model=HealthPublic, responses={503: {"model": HealthPublic}})
async def health(rasa: RasaDep, settings: SettingsDep) -> JSONResponse:
    rasa_ready, rasa_detail = await rasa.status()
    components = {"rasa": ComponentHealthPublic(ready=rasa_ready, detail=rasa_detail)}
    components.update(await _action_server(settings.action_server_url))
    ready = all(c.ready for c in components.values())
    body = HealthPublic(status="ok" if ready else "unavailable", components=components)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


async def _action_server(base_url: str) -> dict[str, ComponentHealthPublic]:
    """The action server's `/ready` reports itself and the knowledge base it loaded."""
    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=3.0) as client:
            response = await client.get("/ready")
    except httpx.HTTPError as error:
        down = f"not reachable ({error.__class__.__name__})"
        return {
            "action_server": ComponentHealthPublic(ready=False, detail=down),
            "knowledge_base": ComponentHealthPublic(ready=False, detail="unknown: action server not reachable"),
        }
    if response.status_code not in (200, 503):
        return {
            "action_server": ComponentHealthPublic(ready=False, detail=f"ready answered {response.status_code}"),
            "knowledge_base": ComponentHealthPublic(ready=False, detail="unknown"),
        }
    kb = response.json().get("knowledge_base", {})
    return {
        "action_server": ComponentHealthPublic(ready=True, detail="up"),
        "knowledge_base": ComponentHealthPublic(ready=bool(kb.get("ready")), detail=str(kb.get("detail", ""))),
    }
