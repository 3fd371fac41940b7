"""Requests to be contacted by the clinic, and the audit trail of the staff's actions on them

Two new tables (app/models/contact.py): ``contact_requests`` (how to reach the person, what it
is about, status, who picked it up, the staff's private notes; CASCADE from the requester's
account) and ``contact_request_events`` (who picked a request up or changed it, and when; SET
NULL on both keys so an anonymous record outlives the request and the accounts). New tables
only: nothing existing is rebuilt.

Revision ID: a16000000001
Revises: a15000000003
Create Date: 2026-12-05 10:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a16000000001"
down_revision = "a15000000003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "contact_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("requester_id", sa.Integer(), nullable=True),
        sa.Column("progress_attached", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("contact_by", sa.String(length=10), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("name", sa.String(length=80), nullable=True),
        sa.Column("good_times", sa.String(length=120), nullable=True),
        sa.Column("topic", sa.String(length=20), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("status", sa.String(length=20), server_default="new", nullable=False),
        sa.Column("picked_up_by_id", sa.Integer(), nullable=True),
        sa.Column("picked_up_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("staff_note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("contact_by IN ('phone', 'email')", name=op.f("ck_contact_requests_contact_by_known")),
        sa.CheckConstraint(
            "topic IN ('alcohol', 'opioids', 'family', 'other')", name=op.f("ck_contact_requests_topic_known")
        ),
        sa.CheckConstraint(
            "status IN ('new', 'contacted', 'closed', 'withdrawn')", name=op.f("ck_contact_requests_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["picked_up_by_id"],
            ["users.id"],
            name=op.f("fk_contact_requests_picked_up_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"], ["users.id"], name=op.f("fk_contact_requests_requester_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_requests")),
    )
    op.create_index("ix_contact_requests_status_created", "contact_requests", ["status", "created_at"], unique=False)
    op.create_index(op.f("ix_contact_requests_requester_id"), "contact_requests", ["requester_id"], unique=False)
    op.create_table(
        "contact_request_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_contact_request_events_actor_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["contact_requests.id"],
            name=op.f("fk_contact_request_events_request_id_contact_requests"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_request_events")),
    )
    op.create_index(op.f("ix_contact_request_events_actor_id"), "contact_request_events", ["actor_id"], unique=False)
    op.create_index(
        op.f("ix_contact_request_events_request_id"), "contact_request_events", ["request_id"], unique=False
    )


def downgrade():
    op.drop_index(op.f("ix_contact_request_events_request_id"), table_name="contact_request_events")
    op.drop_index(op.f("ix_contact_request_events_actor_id"), table_name="contact_request_events")
    op.drop_table("contact_request_events")
    op.drop_index(op.f("ix_contact_requests_requester_id"), table_name="contact_requests")
    op.drop_index("ix_contact_requests_status_created", table_name="contact_requests")
    op.drop_table("contact_requests")
