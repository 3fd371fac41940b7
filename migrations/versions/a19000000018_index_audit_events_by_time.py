"""Index audit events by time, for the site-wide activity log

/author/activity lists every admin action newest first, a page at a time by time; the only
index had the account first (an account's own audit trail), so the log read the whole table.

Revision ID: a19000000018
Revises: a19000000017
Create Date: 2026-12-06 22:22:14.803447

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "a19000000018"
down_revision = "a19000000017"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("audit_events") as batch:
        batch.create_index("ix_audit_events_created", ["created_at"], unique=False)


def downgrade():
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_index("ix_audit_events_created")
