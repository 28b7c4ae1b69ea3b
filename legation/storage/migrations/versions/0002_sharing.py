"""partner sharing: TAXII collections, objects, statuses, cursors, partners, pulls

Revision ID: 0002_sharing
Revises: 0001
Create Date: 2026-11-29 15:51:52.168393
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_sharing"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "partner_pulls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner", sa.String(length=200), nullable=False),
        sa.Column("collection_url", sa.String(length=2000), nullable=False),
        sa.Column("added_after", sa.String(length=40), nullable=True),
        sa.Column("objects", sa.Integer(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_pulls")),
        sa.UniqueConstraint("partner", "collection_url", name="uq_partner_pulls_key"),
    )
    op.create_table(
        "partners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("organisation", sa.String(length=200), nullable=True),
        sa.Column("clearance", sa.String(length=20), nullable=False),
        sa.Column("api_key_hash", sa.String(length=64), nullable=True),
        sa.Column("username", sa.String(length=200), nullable=True),
        sa.Column("password_hash", sa.String(length=300), nullable=True),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partners")),
        sa.UniqueConstraint("api_key_hash", name=op.f("uq_partners_api_key_hash")),
        sa.UniqueConstraint("name", name=op.f("uq_partners_name")),
        sa.UniqueConstraint("username", name=op.f("uq_partners_username")),
    )
    op.create_table(
        "taxii_collections",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("alias", sa.String(length=200), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("policy", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taxii_collections")),
        sa.UniqueConstraint("alias", name=op.f("uq_taxii_collections_alias")),
    )
    op.create_table(
        "taxii_cursors",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("query", sa.String(length=64), nullable=False),
        sa.Column("partner", sa.String(length=200), nullable=False),
        sa.Column("after_us", sa.BigInteger(), nullable=False),
        sa.Column("after_seq", sa.Integer(), nullable=False),
        sa.Column("expires_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_taxii_cursors")),
    )
    with op.batch_alter_table("taxii_cursors", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_taxii_cursors_expires_us"), ["expires_us"], unique=False
        )

    op.create_table(
        "partner_grants",
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("collection_id", sa.String(length=36), nullable=False),
        sa.Column("can_read", sa.Boolean(), nullable=False),
        sa.Column("can_write", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["taxii_collections.id"],
            name=op.f("fk_partner_grants_collection_id_taxii_collections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_partner_grants_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("partner_id", "collection_id", name=op.f("pk_partner_grants")),
    )
    op.create_table(
        "taxii_objects",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("collection_id", sa.String(length=36), nullable=False),
        sa.Column("stix_id", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("spec_version", sa.String(length=10), nullable=False),
        sa.Column("added_us", sa.BigInteger(), nullable=False),
        sa.Column("latest", sa.Boolean(), nullable=False),
        sa.Column("first", sa.Boolean(), nullable=False),
        sa.Column("tlp", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["taxii_collections.id"],
            name=op.f("fk_taxii_objects_collection_id_taxii_collections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_taxii_objects")),
        sa.UniqueConstraint("collection_id", "stix_id", "version", name="uq_taxii_objects_version"),
    )
    with op.batch_alter_table("taxii_objects", schema=None) as batch_op:
        batch_op.create_index(
            "ix_taxii_objects_order", ["collection_id", "added_us", "seq"], unique=False
        )
        batch_op.create_index(
            "ix_taxii_objects_stix_id", ["stix_id", "collection_id"], unique=False
        )

    op.create_table(
        "taxii_statuses",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("collection_id", sa.String(length=36), nullable=False),
        sa.Column("partner", sa.String(length=200), nullable=False),
        sa.Column("request_us", sa.BigInteger(), nullable=False),
        sa.Column("successes", sa.JSON(), nullable=False),
        sa.Column("failures", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["taxii_collections.id"],
            name=op.f("fk_taxii_statuses_collection_id_taxii_collections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taxii_statuses")),
    )


def downgrade() -> None:
    op.drop_table("taxii_statuses")
    with op.batch_alter_table("taxii_objects", schema=None) as batch_op:
        batch_op.drop_index("ix_taxii_objects_stix_id")
        batch_op.drop_index("ix_taxii_objects_order")

    op.drop_table("taxii_objects")
    op.drop_table("partner_grants")
    with op.batch_alter_table("taxii_cursors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_taxii_cursors_expires_us"))

    op.drop_table("taxii_cursors")
    op.drop_table("taxii_collections")
    op.drop_table("partners")
    op.drop_table("partner_pulls")
