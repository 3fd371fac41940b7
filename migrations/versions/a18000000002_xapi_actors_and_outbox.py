"""xAPI: each learner's pseudonymous actor id, and the statements waiting to be sent

``xapi_actors``: one random id per learner, the only thing a learning record store learns
about who did something (app/models/xapi.py ``XapiActor``). ``xapi_statements``: the outbox,
one row per statement written in the same transaction as the event it reports and deleted once
the store has it (``XapiStatement``). Both go with the account (CASCADE). New tables only.

Revision ID: a18000000002
Revises: a18000000001
Create Date: 2026-12-04 23:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a18000000002"
down_revision = "a18000000001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "xapi_actors",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_xapi_actors_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_xapi_actors")),
        sa.UniqueConstraint("name", name=op.f("uq_xapi_actors_name")),
    )
    op.create_table(
        "xapi_statements",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("statement", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_xapi_statements_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_xapi_statements")),
    )
    op.create_index(op.f("ix_xapi_statements_user_id"), "xapi_statements", ["user_id"], unique=False)
    op.create_index(op.f("ix_xapi_statements_created_at"), "xapi_statements", ["created_at"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_xapi_statements_created_at"), table_name="xapi_statements")
    op.drop_index(op.f("ix_xapi_statements_user_id"), table_name="xapi_statements")
    op.drop_table("xapi_statements")
    op.drop_table("xapi_actors")
