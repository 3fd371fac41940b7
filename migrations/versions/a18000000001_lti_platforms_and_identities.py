"""LTI 1.3: registered platforms, the people they launch, launch states and grade targets

- ``lti_platforms``: an LMS an admin registered at /author/lti (issuer, client id, its login,
  token and key-set URLs, the deployment ids it may launch from, one per line).
- ``lti_identities``: the account a platform's user (issuer via platform, ``sub``) signs in to.
  Erasing the account deletes the link (CASCADE).
- ``lti_launch_states``: one row per OIDC login initiation (state and nonce), deleted when the
  launch uses it, so a replayed id_token finds nothing.
- ``lti_grade_targets``: the Assignment and Grade Services line item a launch named for a
  person and a course (or one lesson), where scores are posted.
- ``users.email`` becomes nullable: accounts made by a launch have no e-mail address.

Revision ID: a18000000001
Revises: a17000000002
Create Date: 2026-12-04 23:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a18000000001"
down_revision = "a17000000002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "lti_platforms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("issuer", sa.String(length=255), nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=False),
        sa.Column("auth_login_url", sa.String(length=500), nullable=False),
        sa.Column("auth_token_url", sa.String(length=500), nullable=False),
        sa.Column("key_set_url", sa.String(length=500), nullable=False),
        sa.Column("deployment_ids", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_platforms")),
        sa.UniqueConstraint("issuer", "client_id", name=op.f("uq_lti_platforms_issuer_client_id")),
    )
    op.create_table(
        "lti_identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_launch_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["lti_platforms.id"], name=op.f("fk_lti_identities_platform_id_lti_platforms"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_lti_identities_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_identities")),
        sa.UniqueConstraint("platform_id", "subject", name=op.f("uq_lti_identities_platform_id_subject")),
    )
    op.create_index(op.f("ix_lti_identities_user_id"), "lti_identities", ["user_id"], unique=False)
    op.create_table(
        "lti_launch_states",
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["lti_platforms.id"], name=op.f("fk_lti_launch_states_platform_id_lti_platforms"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("state", name=op.f("pk_lti_launch_states")),
        sa.UniqueConstraint("nonce", name=op.f("uq_lti_launch_states_nonce")),
    )
    op.create_index(op.f("ix_lti_launch_states_created_at"), "lti_launch_states", ["created_at"], unique=False)
    op.create_table(
        "lti_grade_targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("lesson_id", sa.Integer(), nullable=True),
        sa.Column("lineitem_url", sa.String(length=1000), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["course_id"], ["courses.id"], name=op.f("fk_lti_grade_targets_course_id_courses"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["identity_id"], ["lti_identities.id"], name=op.f("fk_lti_grade_targets_identity_id_lti_identities"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["lesson_id"], ["lessons.id"], name=op.f("fk_lti_grade_targets_lesson_id_lessons"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_grade_targets")),
        sa.UniqueConstraint("identity_id", "lineitem_url", name=op.f("uq_lti_grade_targets_identity_id_lineitem_url")),
    )
    op.create_index(op.f("ix_lti_grade_targets_course_id"), "lti_grade_targets", ["course_id"], unique=False)
    with op.batch_alter_table("users") as batch_op:
        batch_op.alter_column("email", existing_type=sa.String(length=254), nullable=True)


def downgrade():
    # Accounts made by LTI launches have no e-mail and cannot survive the NOT NULL again: they
    # are deleted with their links (a lossy downgrade, like dropping the LTI tables).
    op.execute("DELETE FROM users WHERE email IS NULL")
    with op.batch_alter_table("users") as batch_op:
        batch_op.alter_column("email", existing_type=sa.String(length=254), nullable=False)
    op.drop_index(op.f("ix_lti_grade_targets_course_id"), table_name="lti_grade_targets")
    op.drop_table("lti_grade_targets")
    op.drop_index(op.f("ix_lti_launch_states_created_at"), table_name="lti_launch_states")
    op.drop_table("lti_launch_states")
    op.drop_index(op.f("ix_lti_identities_user_id"), table_name="lti_identities")
    op.drop_table("lti_identities")
    op.drop_table("lti_platforms")
