"""A contact request whose e-mails could not be queued is marked, so they are sent later

When the job queue (Redis) was down as someone asked the clinic to contact them, the request was
saved but its two e-mails (the clinic's notice, the person's acknowledgement) were only logged
as lost. The request now keeps a flag, and the worker's ten-minute run queues them.

Revision ID: a19000000016
Revises: a19000000015
Create Date: 2026-12-06 16:50:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a19000000016"
down_revision = "a19000000015"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("contact_requests") as batch:
        batch.add_column(sa.Column("emails_pending", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table("contact_requests") as batch:
        batch.drop_column("emails_pending")
