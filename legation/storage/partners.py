"""Partner services: credentials (only hashes stored), TLP clearance, pull progress."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from legation.domain.clock import utcnow
from legation.errors import ConflictError, InputError, NotFoundError
from legation.sharing.tlp import level_rank, parse_level
from legation.storage.keys import hash_key
from legation.storage.sharing_tables import GrantRow, PartnerRow, PullStateRow

PBKDF2_ROUNDS = 120_000


@dataclass(frozen=True, slots=True)
class Partner:
    id: int
    name: str
    clearance: str
    organisation: str | None


def _partner(row: PartnerRow) -> Partner:
    return Partner(row.id, row.name, row.clearance, row.organisation)


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, PBKDF2_ROUNDS)
    encode = base64.b64encode
    return f"pbkdf2_sha256${PBKDF2_ROUNDS}${encode(salt).decode()}${encode(digest).decode()}"


def check_password(password: str, stored: str) -> bool:
    try:
        _scheme, rounds, salt, digest = stored.split("$")
    except ValueError:
        return False
    mine = hashlib.pbkdf2_hmac(
        "sha256", password.encode("utf-8"), base64.b64decode(salt), int(rounds)
    )
    return hmac.compare_digest(mine, base64.b64decode(digest))


def add_partner(
    session: Session,
    *,
    name: str,
    clearance: str,
    organisation: str | None = None,
    username: str | None = None,
    password: str | None = None,
    url: str | None = None,
) -> tuple[Partner, str]:
    """A new partner and its API key (shown once; only its hash is kept)."""
    level_rank(clearance)  # refuses unknown levels, naming them
    if session.scalar(select(PartnerRow.id).where(PartnerRow.name == name)) is not None:
        raise ConflictError(f"a partner named {name!r} exists already")
    if (username is None) != (password is None):
        raise InputError(f"partner {name!r}: give both a user name and a password, or neither")
    key = "lgp_" + secrets.token_urlsafe(32)
    row = PartnerRow(
        name=name,
        clearance=parse_level(clearance),
        organisation=organisation,
        api_key_hash=hash_key(key),
        username=username,
        password_hash=hash_password(password) if password else None,
        url=url,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return _partner(row), key


_PARTNERS = PartnerRow.__table__
# Built once, read as plain columns: a TAXII request reads its partner every time.
_READ = (
    _PARTNERS.c.id,
    _PARTNERS.c.name,
    _PARTNERS.c.clearance,
    _PARTNERS.c.organisation,
    _PARTNERS.c.password_hash,
)
_BY_KEY = select(*_READ).where(_PARTNERS.c.api_key_hash == bindparam("key_hash"))
_BY_ID = select(*_READ).where(_PARTNERS.c.id == bindparam("partner_id"))


def partner_by_key(session: Session, *, key: str) -> Partner | None:
    row = session.connection().execute(_BY_KEY, {"key_hash": hash_key(key)}).first()
    return Partner(row.id, row.name, row.clearance, row.organisation) if row else None


@functools.cache
def _dummy_hash() -> str:
    """Checked against when the user name is unknown, so it takes as long as a known one."""
    return hash_password(secrets.token_urlsafe(16))


def partner_by_login(session: Session, *, username: str, password: str) -> Partner | None:
    row = session.scalar(select(PartnerRow).where(PartnerRow.username == username))
    if row is None or row.password_hash is None:
        check_password(password, _dummy_hash())  # the same work for an unknown user name
        return None
    return _partner(row) if check_password(password, row.password_hash) else None


def partner_by_id(session: Session, *, partner_id: int) -> tuple[Partner, str | None] | None:
    """The partner as it is now, with its password hash (to see whether it changed)."""
    row = session.connection().execute(_BY_ID, {"partner_id": partner_id}).first()
    if row is None:
        return None
    return Partner(row.id, row.name, row.clearance, row.organisation), row.password_hash


def rotate_key(session: Session, *, name: str) -> str:
    """A new API key for ``name`` (shown once); the old one stops working at once."""
    row = get_partner(session, name=name)
    key = "lgp_" + secrets.token_urlsafe(32)
    row.api_key_hash = hash_key(key)
    return key


def set_password(session: Session, *, name: str, username: str | None, password: str) -> None:
    row = get_partner(session, name=name)
    if not password:
        raise InputError(f"partner {name!r}: the password is empty")
    login = username or row.username
    if login is None:
        raise InputError(f"partner {name!r} has no user name yet; give one")
    taken = session.scalar(
        select(PartnerRow.id).where(PartnerRow.username == login, PartnerRow.id != row.id)
    )
    if taken is not None:
        raise ConflictError(f"user name {login!r} belongs to another partner")
    row.username, row.password_hash = login, hash_password(password)


def set_clearance(session: Session, *, name: str, clearance: str) -> str:
    level_rank(clearance)  # refuses unknown levels, naming them
    row = get_partner(session, name=name)
    row.clearance = parse_level(clearance)
    return row.clearance


def disable_partner(session: Session, *, name: str) -> None:
    """Forget the partner's API key and password: nothing logs in as it until new ones."""
    row = get_partner(session, name=name)
    row.api_key_hash, row.password_hash = None, None


def remove_partner(session: Session, *, name: str) -> None:
    """Delete the partner and its grants (what it sent stays, with its provenance)."""
    row = get_partner(session, name=name)
    session.execute(delete(GrantRow).where(GrantRow.partner_id == row.id))
    session.delete(row)


def get_partner(session: Session, *, name: str) -> PartnerRow:
    row = session.scalar(select(PartnerRow).where(PartnerRow.name == name))
    if row is None:
        raise NotFoundError(f"partner {name!r} does not exist")
    return row


def list_partners(session: Session) -> list[PartnerRow]:
    return list(session.scalars(select(PartnerRow).order_by(PartnerRow.name)))


def pull_state(session: Session, *, partner: str, collection_url: str) -> PullStateRow:
    """The pull progress for one remote collection, created on first use."""
    row = session.scalar(
        select(PullStateRow).where(
            PullStateRow.partner == partner, PullStateRow.collection_url == collection_url
        )
    )
    if row is None:
        row = PullStateRow(
            partner=partner, collection_url=collection_url, objects=0, pages=0, updated_at=utcnow()
        )
        session.add(row)
        session.flush()
    return row
