"""designation links keyed by (list, entity id)

Revision ID: 0005_link_entries
Revises: 0004_web

A link between an incident and a designated organisation named the entry by its entity
id alone, so the same id on two lists (an FtM export reuses the ids of the lists it
merges) was one link. Existing rows already carry their list (``list_source``) and stay
as they are; only the unique key and the look-up index gain the list.
"""

from __future__ import annotations

from alembic import op

revision = "0005_link_entries"
down_revision = "0004_web"
branch_labels = None
depends_on = None

TABLE = "screening_designation_links"


def upgrade() -> None:
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_constraint("uq_screening_designation_links_pair", type_="unique")
        batch_op.create_unique_constraint(
            "uq_screening_designation_links_entry", ["incident_id", "list_source", "entity_id"]
        )
        batch_op.drop_index(batch_op.f("ix_screening_designation_links_entity_id"))
        batch_op.create_index(
            "ix_screening_designation_links_list_entity", ["list_source", "entity_id"]
        )


def downgrade() -> None:
    # two links of one incident to the same id on two lists cannot both survive the old key
    op.execute(
        f"DELETE FROM {TABLE} WHERE id NOT IN "
        f"(SELECT MIN(id) FROM {TABLE} GROUP BY incident_id, entity_id)"
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_index("ix_screening_designation_links_list_entity")
        batch_op.create_index(
            batch_op.f("ix_screening_designation_links_entity_id"), ["entity_id"], unique=False
        )
        batch_op.drop_constraint("uq_screening_designation_links_entry", type_="unique")
        batch_op.create_unique_constraint(
            "uq_screening_designation_links_pair", ["incident_id", "entity_id"]
        )
