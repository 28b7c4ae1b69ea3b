"""one index for the ids of TAXII objects

Revision ID: 0006_taxii_id_index
Revises: 0005_link_entries

``taxii_objects`` had a unique key on (collection, id, version) and a look-up index on
(id, collection). Both are written at random places by every insert (ids are random
UUIDs), which was most of the pages an add of 100 objects wrote. The unique key now
starts with the id and serves the look-ups too; the separate index goes. Same rows, same
uniqueness.
"""

from __future__ import annotations

from alembic import op

revision = "0006_taxii_id_index"
down_revision = "0005_link_entries"
branch_labels = None
depends_on = None

TABLE = "taxii_objects"


def upgrade() -> None:
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_index("ix_taxii_objects_stix_id")
        batch_op.drop_constraint("uq_taxii_objects_version", type_="unique")
        batch_op.create_unique_constraint(
            "uq_taxii_objects_version", ["stix_id", "collection_id", "version"]
        )


def downgrade() -> None:
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_constraint("uq_taxii_objects_version", type_="unique")
        batch_op.create_unique_constraint(
            "uq_taxii_objects_version", ["collection_id", "stix_id", "version"]
        )
        batch_op.create_index("ix_taxii_objects_stix_id", ["stix_id", "collection_id"])
