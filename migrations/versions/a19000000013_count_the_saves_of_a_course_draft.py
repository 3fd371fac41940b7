"""Course drafts count their saves, so of two edits saved at once one is refused, not lost

Each edit reads the whole draft, changes it and writes it back. Two admins saving at the same
moment both read the same draft, and the second write silently dropped the first edit. The
draft row now carries a version that each save checks and moves on (SQLAlchemy's version
counter); on PostgreSQL an edit also reads the draft locked. Existing drafts start at 1.

Revision ID: a19000000013
Revises: a19000000012
Create Date: 2026-12-06 14:10:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a19000000013"
down_revision = "a19000000012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("course_drafts") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))


def downgrade():
    with op.batch_alter_table("course_drafts") as batch:
        batch.drop_column("version")
