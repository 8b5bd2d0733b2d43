"""The action server (`python -m actions.server`): rasa-sdk's app, a `/ready` route, the knowledge base preloaded."""

import logging
import os
from functools import lru_cache

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic, response
from sanic.request import Request

from actions import services
from actions.settings import get_settings

logger = logging.getLogger(__name__)


@lru_cache
def _knowledge_base_summary() -> str:
    """Computed once: the health check polls `/ready`, and the loaded index never changes while serving.

    `stats()` re-reads and hashes every article, so calling it per poll would be repeated I/O for nothing.
    """
    stats = services.knowledge_base().stats()  # raises until the index is loaded; errors are not cached
    return f"{stats['articles']} articles, {stats['chunks']} passages, model {stats['model']}"


def build_app() -> Sanic:
    """rasa-sdk's app serving every action in this package, with readiness reported at `/ready`."""
    executor = ActionExecutor()
    executor.register_package("actions")
    app = create_app(executor, cors_origins=[])

    @app.get("/ready")
    async def ready(_request: Request) -> response.HTTPResponse:
        try:
            detail = _knowledge_base_summary()
        except Exception as error:  # reported, not raised: readiness must always answer
            return response.json({"knowledge_base": {"ready": False, "detail": str(error)}}, status=503)
        return response.json({"knowledge_base": {"ready": True, "detail": detail}})

    return app


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model is local; never reach for a hub
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    kb = services.knowledge_base()  # load model and index before accepting requests
    kb.search("warm up")
    services.engine()
    logger.info("knowledge base ready: %s", kb.stats())
    build_app().run(
        host=settings.action_host, port=settings.action_port, single_process=True, access_log=False, motd=False
    )


if __name__ == "__main__":
    main()
