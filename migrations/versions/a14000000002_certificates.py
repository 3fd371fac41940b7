"""Certificates of completion, each with a code anyone can verify

One row per certificate (app/models/certificates.py ``Certificate``): its holder and course,
its public code (unique), when it was issued and revoked, the name frozen at issue, what of the
name it shows and whether it is public. At most one live (unrevoked) certificate per learner and
course, by a partial unique index. A new table only: nothing existing is rebuilt.

Revision ID: a14000000002
Revises: a14000000001
Create Date: 2026-12-04 20:45:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a14000000002"
down_revision = "a14000000001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("name_at_issue", sa.String(length=80), nullable=False),
        sa.Column("name_display", sa.String(length=10), server_default="full", nullable=False),
        sa.Column("public", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.CheckConstraint(
            "name_display IN ('full', 'initials', 'none')", name=op.f("ck_certificates_name_display_known")
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_certificates_course_id_courses"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_certificates_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificates")),
        sa.UniqueConstraint("code", name=op.f("uq_certificates_code")),
    )
    op.create_index(op.f("ix_certificates_course_id"), "certificates", ["course_id"], unique=False)
    op.create_index(op.f("ix_certificates_user_id"), "certificates", ["user_id"], unique=False)
    op.create_index(
        "uq_certificates_live_per_learner",
        "certificates",
        ["user_id", "course_id"],
        unique=True,
        sqlite_where=sa.text("revoked_at IS NULL"),
        postgresql_where=sa.text("revoked_at IS NULL"),
    )


def downgrade():
    op.drop_index(
        "uq_certificates_live_per_learner",
        table_name="certificates",
        sqlite_where=sa.text("revoked_at IS NULL"),
        postgresql_where=sa.text("revoked_at IS NULL"),
    )
    op.drop_index(op.f("ix_certificates_user_id"), table_name="certificates")
    op.drop_index(op.f("ix_certificates_course_id"), table_name="certificates")
    op.drop_table("certificates")
