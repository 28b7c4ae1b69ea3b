"""Sanctions screening tables: list versions, their entities, subjects, screenings, decisions.

Every list version is kept (source, when, checksum, counts); an entity's ``fingerprint`` is a
hash of its FollowTheMoney data so that a whitelisting lapses when the listed entry changes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from legation.storage.tables import Base, Json


class ListVersionRow(Base):
    __tablename__ = "screening_list_versions"
    __table_args__ = (Index("ix_screening_list_versions_source_id", "source", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(50))
    url: Mapped[str] = mapped_column(String(2000), default="")
    fetched_at: Mapped[datetime]
    checksum: Mapped[str] = mapped_column(String(64))
    entity_count: Mapped[int] = mapped_column(Integer)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[Any]] = mapped_column(default=list)


class ListEntityRow(Base):
    __tablename__ = "screening_list_entities"
    __table_args__ = (
        UniqueConstraint("version_id", "entity_id", name="uq_screening_list_entities_version"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("screening_list_versions.id", ondelete="CASCADE"), index=True
    )
    entity_id: Mapped[str] = mapped_column(String(200))
    schema: Mapped[str] = mapped_column(String(50))
    caption: Mapped[str] = mapped_column(String(1000))
    fingerprint: Mapped[str] = mapped_column(String(64))
    data: Mapped[Json]


class ScreeningSubjectRow(Base):
    """Someone we keep screening: staff, partners, payees."""

    __tablename__ = "screening_subjects"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="payee")  # staff, partner, payee
    schema: Mapped[str] = mapped_column(String(50), default="Person")
    name: Mapped[str] = mapped_column(String(1000))
    birth_date: Mapped[str | None] = mapped_column(String(10))
    country: Mapped[str | None] = mapped_column(String(2))
    reference: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]


class ScreeningRow(Base):
    """One screening: the query, the list versions, the algorithm and what it found."""

    __tablename__ = "screenings"
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(200), default="")
    subject_id: Mapped[int | None] = mapped_column(
        ForeignKey("screening_subjects.id", ondelete="SET NULL"), index=True
    )
    query: Mapped[Json]
    query_key: Mapped[str] = mapped_column(String(64), index=True)
    list_versions: Mapped[Json]
    algorithm: Mapped[str] = mapped_column(String(50))
    threshold: Mapped[float]
    results: Mapped[list[Any]] = mapped_column(default=list)


class ScreeningDecisionRow(Base):
    """An analyst's decision on one result: true_match, false_positive or whitelisted."""

    __tablename__ = "screening_decisions"
    __table_args__ = (Index("ix_screening_decisions_key_entity", "query_key", "entity_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    screening_id: Mapped[int] = mapped_column(ForeignKey("screenings.id", ondelete="CASCADE"))
    query_key: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))
    decision: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    user: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class DesignationLinkRow(Base):
    """An incident's perpetrator group that is a designated (listed) organisation.

    The listed entry is (``list_source``, ``entity_id``): two lists may use one id (an FtM
    export reuses the ids of the lists it merges), so a link never stands for the id alone.
    """

    __tablename__ = "screening_designation_links"
    __table_args__ = (
        UniqueConstraint(
            "incident_id", "list_source", "entity_id", name="uq_screening_designation_links_entry"
        ),
        Index("ix_screening_designation_links_list_entity", "list_source", "entity_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    entity_id: Mapped[str] = mapped_column(String(200))
    caption: Mapped[str] = mapped_column(String(1000))
    list_source: Mapped[str] = mapped_column(String(50))
    perpetrator: Mapped[str] = mapped_column(String(1000))
    score: Mapped[float]
    created_at: Mapped[datetime]
