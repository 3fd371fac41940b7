"""Accounts remember their last login

``users.last_login_at`` is set at each login. The admins' user list used the newest login
session's last use, but sessions are deleted at logout and expiry, so someone who logged out
showed "No record". Existing accounts take the start of their newest session still on record
(NULL when there is none): the best the database knows.

Revision ID: a17000000002
Revises: a17000000001
Create Date: 2026-12-04 22:50:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a17000000002"
down_revision = "a17000000001"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("users", sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True))
    # One statement for every account: fine at this table's size, and no row is locked for long
    # because it only reads user_sessions, which holds little more than the sessions in use.
    op.execute(
        "UPDATE users SET last_login_at = "
        "(SELECT MAX(user_sessions.created_at) FROM user_sessions WHERE user_sessions.user_id = users.id)"
    )


def downgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("last_login_at")
