"""Images uploaded to a course (``course_media``)

One row per image: its course, its safe file name (unique in the course), content type (PNG,
JPEG or WebP only, by a check constraint), SHA-256, the bytes themselves, size and pixel
dimensions, when and by whom it was uploaded (SET NULL when that account is erased). A new table
only: nothing existing is rebuilt.

Revision ID: a15000000002
Revises: a15000000001
Create Date: 2026-12-05 10:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a15000000002"
down_revision = "a15000000001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "course_media",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("content_type", sa.String(length=20), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "content_type IN ('image/png', 'image/jpeg', 'image/webp')",
            name=op.f("ck_course_media_content_type_known"),
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_course_media_course_id_courses"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["users.id"], name=op.f("fk_course_media_uploaded_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_media")),
        sa.UniqueConstraint("course_id", "name", name=op.f("uq_course_media_course_id_name")),
    )
    op.create_index(op.f("ix_course_media_uploaded_by_id"), "course_media", ["uploaded_by_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_course_media_uploaded_by_id"), table_name="course_media")
    op.drop_table("course_media")
