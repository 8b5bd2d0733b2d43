"""The services actions call, created on first use (never at import) and shared for the process's life."""

from functools import lru_cache

from sqlalchemy import Engine

from actions.settings import get_settings
from keepwell.db import check_current, get_engine
from keepwell.offer_catalogue import Offer, load_catalogue
from knowledge_base import KnowledgeBase, from_settings


@lru_cache
def knowledge_base() -> KnowledgeBase:
    kb = from_settings(get_settings())
    kb.ensure_ready()
    return kb


@lru_cache
def engine() -> Engine:
    db = get_engine(get_settings().resolved_database_url)
    check_current(db)  # the launcher migrates before starting this server; it never changes the schema itself
    return db


@lru_cache
def offer_catalogue() -> tuple[Offer, ...]:
    return tuple(load_catalogue())
