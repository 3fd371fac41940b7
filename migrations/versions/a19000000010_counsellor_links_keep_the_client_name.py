"""Counsellor links keep their client's name as the dashboard sorts it, kept by triggers

``counsellor_links.client_name_key`` (the learner's lowercased name while a learner) and the
index of live links on (counsellor, name, learner): the dashboard counts a caseload and pages it
in name order from that index (app/models/caseload_names.py). The triggers are created first,
so that links made while the existing ones are filled in are right; those are filled in batches
of 20,000 links, each its own short transaction on PostgreSQL, and the index is built without
blocking writes.

Revision ID: a19000000010
Revises: a19000000003
Create Date: 2026-12-05 05:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

from app.models import caseload_names

# revision identifiers, used by Alembic.
revision = "a19000000010"
down_revision = "a19000000003"
branch_labels = None
depends_on = None

BATCH = 20_000
_INDEX = "ix_counsellor_links_caseload_by_name"


def _fill(connection) -> None:
    """Write every existing link's key, a batch of ids at a time."""
    highest = connection.scalar(sa.text("SELECT max(id) FROM counsellor_links")) or 0
    fill = sa.text(
        "UPDATE counsellor_links SET client_name_key = ("
        "SELECT CASE WHEN users.role = 'learner' THEN lower(users.display_name) END "
        "FROM users WHERE users.id = counsellor_links.learner_id) "
        "WHERE id > :low AND id <= :high"
    )
    for low in range(0, highest, BATCH):
        # On PostgreSQL this runs in autocommit: each batch is its own transaction, its locks brief.
        connection.execute(fill, {"low": low, "high": low + BATCH})


def upgrade():
    with op.batch_alter_table("counsellor_links") as batch_op:
        batch_op.add_column(sa.Column("client_name_key", sa.String(length=80), nullable=True))
    bind = op.get_bind()
    for statement in caseload_names.statements(bind.dialect.name):
        op.execute(statement)
    if bind.dialect.name != "postgresql":
        _fill(bind)
        op.create_index(
            _INDEX,
            "counsellor_links",
            ["counsellor_id", "client_name_key", "learner_id"],
            sqlite_where=sa.text("revoked_at IS NULL"),
        )
        return
    # CONCURRENTLY cannot run inside a transaction: this block commits what came before.
    with op.get_context().autocommit_block():
        _fill(bind)
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {_INDEX}")  # an interrupted build
        op.create_index(
            _INDEX,
            "counsellor_links",
            ["counsellor_id", "client_name_key", "learner_id"],
            postgresql_where=sa.text("revoked_at IS NULL"),
            postgresql_concurrently=True,
        )


def downgrade():
    bind = op.get_bind()
    op.drop_index(_INDEX, table_name="counsellor_links")
    drops = caseload_names.DROP_POSTGRESQL if bind.dialect.name == "postgresql" else caseload_names.DROP_SQLITE
    for statement in drops:
        op.execute(statement)
    with op.batch_alter_table("counsellor_links") as batch_op:
        batch_op.drop_column("client_name_key")
