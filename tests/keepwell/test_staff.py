"""keepwell/staff.py: console accounts, Argon2id sign-in, passwords, roles, deactivation and session revocation."""

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from keepwell import staff
from keepwell.models import CSMUser, utcnow
from keepwell.staff import StaffError, StaffView, UnknownStaff

PASSWORD = "correct-horse-battery"


def _create(session: Session, email: str = "ann@example.test", role: str = "csm", **kwargs: str) -> StaffView:
    user = staff.create(session, email, kwargs.pop("password", PASSWORD), role=role, **kwargs)
    session.commit()
    return user


def test_create_returns_a_frozen_view_and_stores_only_an_argon2id_hash(session: Session) -> None:
    user = _create(session, " Ann@Example.TEST ", display_name="  Ann   Lee ")
    assert isinstance(user, StaffView)
    assert (user.username, user.display_name, user.role, user.active) == ("ann@example.test", "Ann Lee", "csm", True)
    assert user.created_at.tzinfo is not None and user.last_login_at is None and user.sessions_valid_after is None
    with pytest.raises(AttributeError):
        user.role = "admin"  # type: ignore[misc]
    stored = session.scalars(select(CSMUser.password_hash)).one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


@pytest.mark.parametrize(
    ("email", "password", "role", "message"),
    [
        ("not-an-email", PASSWORD, "csm", "valid email"),
        ("two@@example.test", PASSWORD, "csm", "valid email"),
        ("no-dot@localhost", PASSWORD, "csm", "valid email"),
        ("spaces in@example.test", PASSWORD, "csm", "valid email"),
        ("a" * 95 + "@x.test", PASSWORD, "csm", "valid email"),
        ("ok@example.test", "short", "csm", "at least 12"),
        ("ok@example.test", "x" * 201, "csm", "at most 200"),
        ("ok@example.test", PASSWORD, "root", "role must be one of"),
    ],
)
def test_create_validates(session: Session, email: str, password: str, role: str, message: str) -> None:
    with pytest.raises(StaffError, match=message):
        staff.create(session, email, password, role=role)


def test_an_email_has_one_account(session: Session) -> None:
    _create(session)
    with pytest.raises(StaffError, match="already an account"):
        staff.create(session, "ANN@example.test", PASSWORD)


def test_authenticate_right_wrong_unknown_and_inactive(session: Session) -> None:
    user = _create(session)
    ok = staff.authenticate(session, "ann@example.test ", PASSWORD)
    assert ok.ok and ok.staff == user and ok.failure is None
    assert staff.authenticate(session, "ann@example.test", "wrong-password!") == staff.SignIn(
        None, "wrong_password", user.id
    )
    assert staff.authenticate(session, "bob@example.test", PASSWORD) == staff.SignIn(None, "unknown_user")
    assert staff.authenticate(session, "not an email", PASSWORD) == staff.SignIn(None, "unknown_user")
    staff.deactivate(session, user.id)
    assert staff.authenticate(session, "ann@example.test", PASSWORD) == staff.SignIn(None, "inactive", user.id)


class _CountingHasher(PasswordHasher):
    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.verified: list[str] = []

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.verified.append(str(hash))
        return super().verify(hash, password)


def test_unknown_accounts_cost_the_same_argon2_verification(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    hasher = _CountingHasher()
    monkeypatch.setattr(staff, "_hasher", hasher)
    _create(session)
    staff.authenticate(session, "ann@example.test", "wrong-password!")
    staff.authenticate(session, "nobody@example.test", "wrong-password!")
    known, unknown = hasher.verified
    # Both checks verify one hash made with the same parameters: the same work, no hint which emails exist.
    assert known.split("$")[:4] == unknown.split("$")[:4]


def test_a_hash_under_old_parameters_is_replaced_at_the_next_sign_in(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = _create(session)
    old = session.scalars(select(CSMUser.password_hash)).one()
    assert "m=1024,t=1,p=1" in old
    stronger = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)
    monkeypatch.setattr(staff, "_hasher", stronger)
    assert not staff.authenticate(session, user.username, "wrong-password!").ok
    assert session.scalars(select(CSMUser.password_hash)).one() == old  # only a right password is rehashed
    assert staff.authenticate(session, user.username, PASSWORD).ok
    new = session.scalars(select(CSMUser.password_hash)).one()
    assert "m=2048,t=2,p=1" in new and not stronger.check_needs_rehash(new)
    assert staff.authenticate(session, user.username, PASSWORD).ok


def test_record_sign_in(session: Session) -> None:
    user = _create(session)
    at = utcnow()
    assert staff.record_sign_in(session, user.id, at).last_login_at == at


def test_a_session_is_valid_until_the_account_is_signed_out_or_deactivated(session: Session) -> None:
    user = _create(session)
    signed_in = utcnow()
    assert user.session_is_valid(signed_in)
    revoked = staff.revoke_sessions(session, user.id)
    assert revoked.sessions_valid_after is not None and revoked.sessions_valid_after >= signed_in
    assert not revoked.session_is_valid(signed_in)
    assert revoked.session_is_valid(revoked.sessions_valid_after + timedelta(microseconds=1))
    inactive = staff.deactivate(session, user.id)
    assert not inactive.active
    assert not inactive.session_is_valid(utcnow() + timedelta(seconds=1))


@pytest.mark.parametrize("change", ["set_password", "deactivate", "revoke_sessions"])
def test_password_change_deactivation_and_revocation_end_sessions(session: Session, change: str) -> None:
    user = _create(session)
    signed_in = utcnow()
    args = (session, user.id, "a-new-long-password") if change == "set_password" else (session, user.id)
    after = getattr(staff, change)(*args)
    session.commit()
    reread = staff.get(session, user.id)
    assert reread is not None and reread.sessions_valid_after == after.sessions_valid_after
    assert not reread.session_is_valid(signed_in)


def test_set_password_checks_length_and_changes_the_password(session: Session) -> None:
    user = _create(session)
    with pytest.raises(StaffError, match="at least 12"):
        staff.set_password(session, user.id, "short")
    staff.set_password(session, user.id, "a-new-long-password")
    assert not staff.authenticate(session, user.username, PASSWORD).ok
    assert staff.authenticate(session, user.username, "a-new-long-password").ok


def test_reactivate_lets_the_account_sign_in_but_old_sessions_stay_ended(session: Session) -> None:
    user = _create(session)
    signed_in = utcnow()
    staff.deactivate(session, user.id)
    back = staff.reactivate(session, user.id)
    assert back.active and not back.session_is_valid(signed_in)
    assert staff.authenticate(session, user.username, PASSWORD).ok


def test_roles(session: Session) -> None:
    first = _create(session, "first@example.test", role="admin")
    second = _create(session, "second@example.test")
    assert first.is_admin and not second.is_admin
    assert staff.set_role(session, second.id, "admin").is_admin
    with pytest.raises(StaffError, match="role must be one of"):
        staff.set_role(session, second.id, "owner")


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(session: Session) -> None:
    admin = _create(session, "admin@example.test", role="admin")
    other = _create(session, "other@example.test", role="admin")
    staff.deactivate(session, other.id)  # an inactive admin does not count
    with pytest.raises(StaffError, match="last active admin"):
        staff.set_role(session, admin.id, "csm")
    with pytest.raises(StaffError, match="last active admin"):
        staff.deactivate(session, admin.id)
    staff.reactivate(session, other.id)
    assert staff.set_role(session, admin.id, "csm").role == "csm"


def test_unknown_accounts_raise(session: Session) -> None:
    for change in (staff.deactivate, staff.reactivate, staff.revoke_sessions):
        with pytest.raises(UnknownStaff):
            change(session, 999)
    with pytest.raises(UnknownStaff):
        staff.set_role(session, 999, "csm")
    assert staff.get(session, 999) is None
    assert staff.get_by_email(session, "nobody@example.test") is None
    assert staff.get_by_email(session, "not an email") is None


def test_list_staff_puts_admins_first(session: Session) -> None:
    _create(session, "zed@example.test")
    _create(session, "amy@example.test")
    _create(session, "boss@example.test", role="admin")
    assert [u.username for u in staff.list_staff(session)] == [
        "boss@example.test",
        "amy@example.test",
        "zed@example.test",
    ]


def test_generated_passwords_are_long_and_different() -> None:
    passwords = {staff.generate_password() for _ in range(20)}
    assert len(passwords) == 20
    assert all(len(p) >= staff.MIN_PASSWORD_LENGTH for p in passwords)


def test_views_are_utc_aware_on_postgresql(postgres_engine: Engine) -> None:
    from keepwell.db import session_factory, upgrade

    upgrade(postgres_engine)
    with session_factory(postgres_engine)() as session:
        user = _create(session)
        staff.revoke_sessions(session, user.id)
        session.commit()
        reread = staff.get(session, user.id)
        assert reread is not None and reread.sessions_valid_after is not None
        assert reread.sessions_valid_after.utcoffset() == timedelta(0)
        assert not reread.session_is_valid(utcnow() - timedelta(seconds=1))
        assert reread.session_is_valid(utcnow() + timedelta(seconds=1))
