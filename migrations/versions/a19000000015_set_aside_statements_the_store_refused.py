"""Statements the learning record store refused are set aside, so they cannot block the rest

The outbox sent the oldest statements first, 200 at a time, and kept a statement the store
refused (400, 413) for an admin. Once 200 such statements had piled up, every run sent only
them, all refused again, and nothing newer went out. A refused statement now records when it
was refused and leaves the send order; `flask xapi retry-refused` puts them back.

Revision ID: a19000000015
Revises: a19000000014
Create Date: 2026-12-06 16:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a19000000015"
down_revision = "a19000000014"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("xapi_statements") as batch:
        batch.add_column(sa.Column("refused_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("xapi_statements") as batch:
        batch.drop_column("refused_at")
