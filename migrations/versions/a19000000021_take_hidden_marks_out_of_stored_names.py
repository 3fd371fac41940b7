"""Names stored before hidden marks were refused have them taken out

Since stop 44 a name holding a control character or a mark that reorders text is refused at
every form (app/services/accounts.py, ``name_has_hidden_marks``): a right-to-left override could
make one learner's name show as another's on a counsellor's list. Names stored before then keep
whatever they held. This takes those characters out of every account's name, every contact
request's name and the name each certificate was issued to (which its public check page, its
PDF and its signed credential show, and where a reordered name matters most; credentials are
signed when asked for, so none already handed out is broken), as ``name_without_hidden_marks``
does for a name an LMS sends: each becomes a space, and runs of spaces one. A name left empty
becomes "Learner" (as an LMS launch without a name does), or no name for a contact request
(whom to ask for is optional).

The characters are written out here, as they were at this revision, so that a later change to
the rule cannot change what this revision did. Rows are read in batches by id and only those
that change are written, so no table is locked for long; nothing to undo on downgrade (the
characters taken out were never meant to be there).

Revision ID: a19000000021
Revises: a19000000020
Create Date: 2026-12-07 03:20:00.000000

"""

import re

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a19000000021"
down_revision = "a19000000020"
branch_labels = None
depends_on = None

HIDDEN_MARKS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
BATCH = 1000


def without_hidden_marks(name: str) -> str:
    return " ".join(HIDDEN_MARKS.sub(" ", name).split())


def _clean(table: str, column: str, empty: str | None) -> None:
    connection = op.get_bind()
    rows = sa.table(table, sa.column("id", sa.Integer), sa.column(column, sa.String))
    after = 0
    while True:
        batch = connection.execute(
            sa.select(rows.c.id, rows.c[column]).where(rows.c.id > after).order_by(rows.c.id).limit(BATCH)
        ).all()
        if not batch:
            return
        after = batch[-1][0]
        for row_id, name in batch:
            if name is None or not HIDDEN_MARKS.search(name):
                continue
            connection.execute(
                sa.update(rows).where(rows.c.id == row_id).values({column: without_hidden_marks(name) or empty})
            )


def upgrade():
    _clean("users", "display_name", "Learner")
    _clean("contact_requests", "name", None)
    _clean("certificates", "name_at_issue", "Learner")


def downgrade():
    pass
