"""Dashboard users and their server-side sessions; passwords as scrypt hashes, tokens as SHA-256.

Also the alert assignments the inbox sets (who works on which alert).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import Boolean, ForeignKey, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from legation.domain.clock import as_utc, utcnow
from legation.errors import ConflictError, InputError, NotFoundError
from legation.storage.keys import ROLES
from legation.storage.tables import AlertRow, Base

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
MIN_PASSWORD = 10


class UserRow(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(20))  # viewer, analyst, admin
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]


class WebSessionRow(Base):
    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class AlertAssignmentRow(Base):
    __tablename__ = "alert_assignments"
    alert_id: Mapped[int] = mapped_column(
        ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True
    )
    assignee: Mapped[str] = mapped_column(String(100))
    assigned_by: Mapped[str] = mapped_column(String(100))
    assigned_at: Mapped[datetime]


@dataclass(frozen=True, slots=True)
class WebUser:
    id: int
    username: str
    role: str
    csrf_token: str

    def can(self, role: str) -> bool:
        """Whether this user has ``role`` or a higher one."""
        return ROLES.index(self.role) >= ROLES.index(role)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32
    )
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if kind != "scrypt":
        return False
    got = hashlib.scrypt(
        password.encode("utf-8"),
        salt=bytes.fromhex(salt),
        n=int(n),
        r=int(r),
        p=int(p),
        dklen=len(digest) // 2,
    )
    return hmac.compare_digest(got.hex(), digest)


def create_user(session: Session, *, username: str, password: str, role: str) -> UserRow:
    """A new dashboard user; the password is stored only as a scrypt hash."""
    if role not in ROLES:
        raise InputError(f"role {role!r} is unknown; use one of {', '.join(ROLES)}")
    if not username or len(username) > 100 or not username.isprintable():
        raise InputError(f"user name {username!r} must be 1 to 100 printable characters")
    if len(password) < MIN_PASSWORD:
        raise InputError(
            f"password for {username!r} has {len(password)} characters; use {MIN_PASSWORD} or more"
        )
    if session.scalar(select(UserRow.id).where(UserRow.username == username)) is not None:
        raise ConflictError(f"a user named {username!r} exists already")
    row = UserRow(
        username=username,
        password_hash=hash_password(password),
        role=role,
        disabled=False,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return row


@cache
def _dummy_hash() -> str:
    """A hash to check unknown names against, so they take as long as known ones."""
    return hash_password(secrets.token_hex(16))


def authenticate_user(session: Session, *, username: str, password: str) -> UserRow | None:
    """The user when the password matches; the same work is done for unknown names."""
    row = session.scalar(select(UserRow).where(UserRow.username == username))
    if row is None:
        check_password(password, _dummy_hash())
        return None
    if not check_password(password, row.password_hash) or row.disabled:
        return None
    return row


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(session: Session, *, user_id: int, lifetime: timedelta) -> str:
    """A new session for the user; the token (for the cookie) is returned, its hash stored."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.execute(delete(WebSessionRow).where(WebSessionRow.expires_at < now))
    session.add(
        WebSessionRow(
            token_hash=_token_hash(token),
            user_id=user_id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return token


def user_for_token(
    session: Session,
    *,
    token: str,
    idle: timedelta | None = None,
    lifetime: timedelta | None = None,
) -> WebUser | None:
    """The logged-in user of an unexpired session, or None.

    With ``idle`` and ``lifetime`` the session is kept alive: its expiry moves to ``idle`` from
    now, never past ``lifetime`` after the login (written at most once a minute)."""
    found = session.execute(
        select(WebSessionRow, UserRow)
        .join(UserRow, UserRow.id == WebSessionRow.user_id)
        .where(WebSessionRow.token_hash == _token_hash(token))
    ).first()
    if found is None:
        return None
    web_session, user = found
    now = utcnow()
    if as_utc(web_session.expires_at) <= now or user.disabled:
        return None
    if idle is not None and lifetime is not None:
        wanted = min(as_utc(web_session.created_at) + lifetime, now + idle)
        if wanted - as_utc(web_session.expires_at) > timedelta(minutes=1):
            web_session.expires_at = wanted
    return WebUser(user.id, user.username, user.role, web_session.csrf_token)


def end_session(session: Session, *, token: str) -> None:
    session.execute(delete(WebSessionRow).where(WebSessionRow.token_hash == _token_hash(token)))


def assign_alert(session: Session, *, alert_id: int, assignee: str, by: str) -> None:
    """Give an alert to a user (by name); a later assignment replaces the earlier one."""
    if session.get(AlertRow, alert_id) is None:
        raise NotFoundError(f"alert {alert_id} does not exist")
    found = session.scalar(select(UserRow.disabled).where(UserRow.username == assignee))
    if found is None:
        raise NotFoundError(f"user {assignee!r} does not exist")
    if found:
        raise ConflictError(f"user {assignee!r} is disabled and cannot be given alerts")
    row = session.get(AlertAssignmentRow, alert_id)
    if row is None:
        row = AlertAssignmentRow(alert_id=alert_id)
        session.add(row)
    row.assignee, row.assigned_by, row.assigned_at = assignee, by, utcnow()


def list_users(session: Session) -> list[UserRow]:
    return list(session.scalars(select(UserRow).order_by(UserRow.username)))


def usernames(session: Session) -> list[str]:
    """The names of the users who can be given work (not the disabled ones)."""
    query = select(UserRow.username).where(UserRow.disabled.is_(False))
    return list(session.scalars(query.order_by(UserRow.username)))


def _user(session: Session, username: str) -> UserRow:
    row = session.scalar(select(UserRow).where(UserRow.username == username))
    if row is None:
        raise NotFoundError(f"user {username!r} does not exist")
    return row


def set_user_disabled(session: Session, *, username: str, disabled: bool, by: str) -> None:
    """Disable (ending every session of the user) or enable a user; nobody disables themselves."""
    row = _user(session, username)
    if disabled and username == by:
        raise ConflictError(f"{by!r} cannot disable their own account; ask another admin")
    row.disabled = disabled
    if disabled:
        session.execute(delete(WebSessionRow).where(WebSessionRow.user_id == row.id))


def set_user_role(session: Session, *, username: str, role: str, by: str) -> None:
    """Change a user's role (an admin cannot take away their own admin role)."""
    if role not in ROLES:
        raise InputError(f"role {role!r} is unknown; use one of {', '.join(ROLES)}")
    row = _user(session, username)
    if username == by and role != row.role:
        raise ConflictError(f"{by!r} cannot change their own role; ask another admin")
    row.role = role


def set_user_password(session: Session, *, username: str, password: str) -> None:
    """A new password; the user's sessions end (whoever knew the old one is logged out)."""
    if len(password) < MIN_PASSWORD:
        raise InputError(
            f"password for {username!r} has {len(password)} characters; use {MIN_PASSWORD} or more"
        )
    row = _user(session, username)
    row.password_hash = hash_password(password)
    session.execute(delete(WebSessionRow).where(WebSessionRow.user_id == row.id))
