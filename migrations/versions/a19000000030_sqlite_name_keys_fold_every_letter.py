"""On SQLite, each counsellor link's client name key folds the case of every letter

The keys (app/models/caseload_names.py) were written by SQLite's own lower(), which folds ASCII
letters only, so a counsellor's search for "å" missed "Ångström" and names sorted by their case.
The app now gives each SQLite connection Python's lower() (app/sqlite_text.py), as PostgreSQL's
folds every letter; this rewrites the keys already stored, as that lower() makes them: in
batches by id, writing only the rows that change. PostgreSQL's keys are right already. Nothing
to undo on downgrade (the keys are only ever searched and sorted by).

Revision ID: a19000000030
Revises: a19000000022
Create Date: 2026-12-07 06:10:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a19000000030"
down_revision = "a19000000022"
branch_labels = None
depends_on = None

BATCH = 1000
_READ = sa.text(
    "SELECT counsellor_links.id, counsellor_links.client_name_key, users.display_name FROM counsellor_links "
    "JOIN users ON users.id = counsellor_links.learner_id "
    "WHERE users.role = 'learner' AND counsellor_links.id > :after ORDER BY counsellor_links.id LIMIT :batch"
)
_WRITE = sa.text("UPDATE counsellor_links SET client_name_key = :key WHERE id = :id")


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    after = 0
    while rows := bind.execute(_READ, {"after": after, "batch": BATCH}).all():
        # str.lower, written out here rather than imported, so that this revision does what it did.
        changed = [{"id": row.id, "key": row.display_name.lower()} for row in rows]
        changed = [change for change, row in zip(changed, rows, strict=True) if change["key"] != row.client_name_key]
        if changed:
            bind.execute(_WRITE, changed)
        after = rows[-1].id


def downgrade():
    pass
