"""Each publication keeps the course data it published and its list of changes

``course_publications.data`` is the course as it was published (the files-format data the
draft keeps, with row ids), so an admin can restore that version later as a new publication;
``course_publications.changes`` is the publish preview's list of changes (lines of text);
``course_publications.restored_from_id`` points at the publication a rollback restored.

All three are nullable and added without a default: publications made before this revision
have no snapshot, and the history page shows them without a restore button, saying why.

Revision ID: a15000000003
Revises: a15000000002
Create Date: 2026-12-05 10:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a15000000003"
down_revision = "a15000000002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("course_publications") as batch_op:
        batch_op.add_column(sa.Column("data", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("changes", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("restored_from_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_course_publications_restored_from_id_course_publications"),
            "course_publications",
            ["restored_from_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("course_publications") as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_course_publications_restored_from_id_course_publications"), type_="foreignkey"
        )
        batch_op.drop_column("restored_from_id")
        batch_op.drop_column("changes")
        batch_op.drop_column("data")
