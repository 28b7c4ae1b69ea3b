"""Tables for partner sharing: TAXII collections, objects, statuses, cursors, partners.

Defined on the same metadata as ``storage.tables`` (and imported there) so that Alembic
and the tests see them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from legation.storage.tables import Base, Json


class CollectionRow(Base):
    """A TAXII collection. ``policy`` says what goes in it: TLP ceiling, default TLP, filters."""

    __tablename__ = "taxii_collections"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    alias: Mapped[str | None] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    policy: Mapped[Json] = mapped_column(default=dict)
    created_at: Mapped[datetime]


class StixObjectRow(Base):
    """One version of one STIX object in one collection.

    ``added_us`` is the server's date_added in microseconds, strictly increasing within a
    collection, so that (added_us, seq) is a total order and ``added_after`` never skips.
    """

    __tablename__ = "taxii_objects"
    __table_args__ = (
        # stix_id first: it is also the index of every look-up by id (one index to
        # update per insert, not two: each is written at random places), and a
        # collection-wide page must walk ix_taxii_objects_order, not this.
        UniqueConstraint("stix_id", "collection_id", "version", name="uq_taxii_objects_version"),
        Index("ix_taxii_objects_order", "collection_id", "added_us", "seq"),
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    collection_id: Mapped[str] = mapped_column(
        ForeignKey("taxii_collections.id", ondelete="CASCADE")
    )
    stix_id: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(100))
    version: Mapped[str] = mapped_column(String(40))  # normalised: sorts as it dates
    spec_version: Mapped[str] = mapped_column(String(10))
    added_us: Mapped[int] = mapped_column(BigInteger)
    latest: Mapped[bool] = mapped_column(Boolean, default=True)
    first: Mapped[bool] = mapped_column(Boolean, default=True)
    tlp: Mapped[int] = mapped_column(Integer)  # rank in sharing.tlp.LEVELS
    owner: Mapped[str | None] = mapped_column(String(200))  # created_by_ref
    source: Mapped[str] = mapped_column(String(200))  # provenance: "local" or partner name
    body: Mapped[Json]


class StatusRow(Base):
    __tablename__ = "taxii_statuses"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    collection_id: Mapped[str] = mapped_column(
        ForeignKey("taxii_collections.id", ondelete="CASCADE")
    )
    partner: Mapped[str] = mapped_column(String(200))
    request_us: Mapped[int] = mapped_column(BigInteger)
    successes: Mapped[list[Any]] = mapped_column(default=list)
    failures: Mapped[list[Any]] = mapped_column(default=list)


class CursorRow(Base):
    """A ``next`` token: where the next page starts, for which query, until when."""

    __tablename__ = "taxii_cursors"
    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    query: Mapped[str] = mapped_column(String(64))  # hash of endpoint, collection, filters
    partner: Mapped[str] = mapped_column(String(200))
    after_us: Mapped[int] = mapped_column(BigInteger)
    after_seq: Mapped[int] = mapped_column(Integer)
    expires_us: Mapped[int] = mapped_column(BigInteger, index=True)


class PartnerRow(Base):
    """A partner service: credentials (hashed), TLP clearance, organisation identity."""

    __tablename__ = "partners"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    organisation: Mapped[str | None] = mapped_column(String(200))  # STIX identity id
    clearance: Mapped[str] = mapped_column(String(20), default="green")
    api_key_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    username: Mapped[str | None] = mapped_column(String(200), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(300))
    url: Mapped[str | None] = mapped_column(String(2000))  # their TAXII server, for pulls
    created_at: Mapped[datetime]


class GrantRow(Base):
    __tablename__ = "partner_grants"
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True
    )
    collection_id: Mapped[str] = mapped_column(
        ForeignKey("taxii_collections.id", ondelete="CASCADE"), primary_key=True
    )
    can_read: Mapped[bool] = mapped_column(Boolean, default=True)
    can_write: Mapped[bool] = mapped_column(Boolean, default=False)


class PullStateRow(Base):
    """How far a pull from a partner's collection got; committed after every page."""

    __tablename__ = "partner_pulls"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner: Mapped[str] = mapped_column(String(200))
    collection_url: Mapped[str] = mapped_column(String(2000))
    added_after: Mapped[str | None] = mapped_column(String(40))
    objects: Mapped[int] = mapped_column(Integer, default=0)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime]
    __table_args__ = (UniqueConstraint("partner", "collection_url", name="uq_partner_pulls_key"),)
