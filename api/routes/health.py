"""`GET /api/health`: `ok`, `degraded` (a part is down, the gateway still answers) or `unavailable` (503)."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.deps import RasaDep, SettingsDep
from api.schemas import ComponentHealthPublic, HealthPublic
from api.services import health as health_service

router = APIRouter(prefix="/api", tags=["health"])


@router.get(
    "/health",
    response_model=HealthPublic,
    responses={503: {"model": HealthPublic, "description": "Unavailable: the gateway's database cannot be reached"}},
)
async def health(request: Request, rasa: RasaDep, settings: SettingsDep) -> JSONResponse:
    """200 while the gateway can serve (every part ready, or `degraded` naming the parts that are down);
    503 only when the gateway's own database cannot be reached."""
    checked = await health_service.check(rasa, settings.action_server_url, request.app.state.engine)
    components = {name: ComponentHealthPublic(ready=p.ready, detail=p.detail) for name, p in checked.parts.items()}
    down = checked.down
    body = HealthPublic(
        status=checked.status,
        components=components,
        down=down,
        detail="; ".join(f"{name}: {checked.parts[name].detail}" for name in down) or "every part is ready",
    )
    return JSONResponse(body.model_dump(), status_code=503 if checked.status == "unavailable" else 200)
