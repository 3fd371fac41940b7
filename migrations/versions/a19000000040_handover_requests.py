"""Handover requests: a counsellor's client asked to share their progress with a colleague

A counsellor who leaves or changes role (or an admin for them) asks each client, on /me/, to
share with a colleague. Nothing is shared until the client accepts, which makes the link as an
invitation does; the request records the answer and expires as invitations do.

Downgrading drops the table: lossy, the links accepted requests made stay.

Revision ID: a19000000040
Revises: a19000000037
Create Date: 2026-12-07 17:36:38

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a19000000040"
down_revision = "a19000000037"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "handover_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("counsellor_id", sa.Integer(), nullable=False),
        sa.Column("from_counsellor_id", sa.Integer(), nullable=True),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["counsellor_id"], ["users.id"], name=op.f("fk_handover_requests_counsellor_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["from_counsellor_id"],
            ["users.id"],
            name=op.f("fk_handover_requests_from_counsellor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["users.id"], name=op.f("fk_handover_requests_learner_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name=op.f("fk_handover_requests_requested_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handover_requests")),
    )
    with op.batch_alter_table("handover_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_handover_requests_counsellor_id"), ["counsellor_id"], unique=False)
        batch_op.create_index("ix_handover_requests_from_counsellor_id", ["from_counsellor_id"], unique=False)
        batch_op.create_index("ix_handover_requests_learner_counsellor", ["learner_id", "counsellor_id"], unique=False)


def downgrade():
    with op.batch_alter_table("handover_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_handover_requests_learner_counsellor")
        batch_op.drop_index("ix_handover_requests_from_counsellor_id")
        batch_op.drop_index(batch_op.f("ix_handover_requests_counsellor_id"))
    op.drop_table("handover_requests")
