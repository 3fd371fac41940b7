"""A contact request may be marked "tried, no answer": still open, still its holder's

A counsellor who called and got no answer had nowhere to record it but a note: marking the
request contacted said something untrue, and closing it dropped the person. ``no_answer`` is a
status of its own, so the request's check constraint on ``status`` takes it (SQLite rebuilds
``contact_requests`` in batch mode: it has no triggers, and migrations run with its foreign keys
off, so its notes and events keep their links).

Downgrading turns every "no answer" request back to "new" (nobody has spoken to the person yet,
which is what "new" said before this status existed) before the constraint goes back: lossy, the
trail still records each try.

Revision ID: a19000000037
Revises: a19000000036
Create Date: 2026-12-07 15:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a19000000037"
down_revision = "a19000000036"
branch_labels = None
depends_on = None

WITH_NO_ANSWER = "status IN ('new', 'no_answer', 'contacted', 'closed', 'withdrawn')"
WITHOUT = "status IN ('new', 'contacted', 'closed', 'withdrawn')"


def _constraint(condition: str) -> None:
    with op.batch_alter_table("contact_requests", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_contact_requests_status_known"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_contact_requests_status_known"), sa.text(condition))


def upgrade():
    _constraint(WITH_NO_ANSWER)


def downgrade():
    op.execute(sa.text("UPDATE contact_requests SET status = 'new' WHERE status = 'no_answer'"))
    _constraint(WITHOUT)
