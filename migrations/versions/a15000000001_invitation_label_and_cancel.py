"""Invitations get a private label and can be cancelled

``invitations.label`` is the counsellor's own note of whom an invitation is for (at most 80
characters, never shown to the client); ``invitations.cancelled_at`` is set when the counsellor
cancels an unused invitation, after which its code answers "cancelled". Both nullable, added
with plain ADD COLUMN: existing invitations keep working, unlabelled and not cancelled.

Revision ID: a15000000001
Revises: a14000000003
Create Date: 2026-12-04 21:10:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a15000000001"
down_revision = "a14000000003"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("invitations", sa.Column("label", sa.String(length=80), nullable=True))
    op.add_column("invitations", sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("invitations") as batch_op:
        batch_op.drop_column("cancelled_at")
        batch_op.drop_column("label")
