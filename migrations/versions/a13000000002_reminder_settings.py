"""Keep each person's choice of e-mail reminders

One row per person who has opened the reminder settings (app/models/reminders.py
``ReminderSettings``): whether they want a reminder after a week away with lessons left, and
when the last one was sent, so nobody gets more than one a week. Reminders are off by default,
and a person without a row gets none. A new table only: nothing existing is rebuilt.

Revision ID: a13000000002
Revises: a13000000001
Create Date: 2026-12-04 20:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a13000000002"
down_revision = "a13000000001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "reminder_settings",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("away_reminders", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("last_reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_reminder_settings_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_reminder_settings")),
    )


def downgrade():
    op.drop_table("reminder_settings")
