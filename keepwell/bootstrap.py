"""Preparing the app database before any process uses it: migrations, then the demo world in demo mode."""

from dataclasses import dataclass

from sqlalchemy.orm import Session

from keepwell import audit, demo_data, staff
from keepwell.db import get_engine, session_scope, upgrade
from keepwell.settings import CoreSettings

# Demo logins, printed by `make run`; placeholders that only exist in demo mode.
DEMO_ADMIN = ("admin@demo.test", "keepwell-admin-demo")
DEMO_CSM = ("csm@demo.test", "keepwell-demo")


@dataclass(frozen=True)
class Prepared:
    customers_seeded: int


def prepare(settings: CoreSettings) -> Prepared:
    """Migrate the app database; in demo mode seed the demo customers and console logins (idempotent)."""
    engine = get_engine(settings.resolved_database_url)
    upgrade(engine)
    seeded = 0
    if settings.demo_mode:
        with session_scope(engine) as session:
            seeded = demo_data.seed(session)
            _seed_demo_staff(session)
            if seeded:
                demo_csm = staff.get_by_email(session, DEMO_CSM[0])
                if demo_csm is not None:
                    demo_data.assign_owner(session, demo_csm.id)
    return Prepared(customers_seeded=seeded)


def _seed_demo_staff(session: Session) -> None:
    """One admin and one CSM with the demo passwords; an account that already exists is left as it is."""
    for (email, password), role, name in ((DEMO_ADMIN, "admin", "Demo Admin"), (DEMO_CSM, "csm", "Demo CSM")):
        if staff.get_by_email(session, email) is None:
            user = staff.create(session, email, password, role=role, display_name=name)
            audit.record(session, audit.SYSTEM, "user.create", "user", user.id, {"email": email, "role": role})
