"""Keep login sessions on the server

One row per login (app/models/user.py ``UserSession``): the cookies carry a random token and
the row its SHA-256, so logging out, "log out everywhere", a new password, deactivation and
reactivation can end sessions for real by deleting rows. A new table only: nothing existing
is rebuilt.

Sessions from before this revision carried "<user id>.<session version>", which names no row
here: everyone logs in once more after the upgrade. The downgrade drops the table; the old
code then accepts only its own cookie format, so everyone logs in again then too.

Revision ID: 8c5b954d54c9
Revises: a7c31e9b5d20
Create Date: 2026-12-04 16:51:48.988196

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "8c5b954d54c9"
down_revision = "a7c31e9b5d20"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("remember", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_sessions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_sessions_token_hash")),
    )
    op.create_index(op.f("ix_user_sessions_user_id"), "user_sessions", ["user_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_user_sessions_user_id"), table_name="user_sessions")
    op.drop_table("user_sessions")
