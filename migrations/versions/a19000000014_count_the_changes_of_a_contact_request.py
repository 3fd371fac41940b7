"""Contact requests count their changes, so of two staff changes made at once one is refused

Staff changes read the request locked (FOR UPDATE), which SQLite ignores: there two people
pressing "Pick up" at the same moment were both told they had it. The row now carries a version
that each change checks and moves on (SQLAlchemy's version counter). Existing rows start at 1.

Revision ID: a19000000014
Revises: a19000000013
Create Date: 2026-12-06 14:20:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a19000000014"
down_revision = "a19000000013"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("contact_requests") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))


def downgrade():
    with op.batch_alter_table("contact_requests") as batch:
        batch.drop_column("version")
