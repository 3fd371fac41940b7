"""Accounts, certificates and LMS platforms never reuse a deleted row's id on SQLite (AUTOINCREMENT)

SQLite gives a new row the highest id plus one, so erasing the newest account (or certificate,
or platform) and adding another gave the new one the old id. Ids that no foreign key follows
then pointed at the wrong row: an audit record's counsellor id named whoever registered next, a
removed platform's record took the new platform's name, and an erased holder's credential read
as valid again, its revocation bit being the certificate's id. As a19000000011 did for the
course's rows: each table is rebuilt (batch mode, foreign keys off while migrating:
migrations/env.py), keeping every row and id; the copy sets the sequence to the highest id
there now. The triggers that keep each counsellor link's client name (app/models/caseload_names.py)
name users, so they are dropped first and made again after: as they were at this revision, written
out here, so that a later change to them cannot make this revision build the new ones on this
schema. PostgreSQL's sequences never reuse ids: nothing to do there.

Revision ID: a19000000020
Revises: a19000000019
Create Date: 2026-12-06 23:20:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "a19000000020"
down_revision = "a19000000019"
branch_labels = None
depends_on = None

TABLES = ("users", "certificates", "lti_platforms")

# SQLite's client-name triggers as a19000000010 made them (app/models/caseload_names.py, SQLITE).
DROP_TRIGGERS = (
    "DROP TRIGGER IF EXISTS users_client_name_on_links",
    "DROP TRIGGER IF EXISTS counsellor_links_client_name",
)
CREATE_TRIGGERS = (
    """
CREATE TRIGGER counsellor_links_client_name AFTER INSERT ON counsellor_links
BEGIN
    UPDATE counsellor_links
    SET client_name_key = (
        SELECT CASE WHEN users.role = 'learner' THEN lower(users.display_name) END
        FROM users WHERE users.id = NEW.learner_id
    )
    WHERE id = NEW.id;
END
""",
    """
CREATE TRIGGER users_client_name_on_links AFTER UPDATE OF display_name, role ON users
BEGIN
    UPDATE counsellor_links
    SET client_name_key = CASE WHEN NEW.role = 'learner' THEN lower(NEW.display_name) END
    WHERE learner_id = NEW.id;
END
""",
)


def _rebuild(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for statement in DROP_TRIGGERS:
        op.execute(statement)
    for table in TABLES:
        with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}):
            pass
    for statement in CREATE_TRIGGERS:
        op.execute(statement)


def upgrade():
    _rebuild(True)


def downgrade():
    _rebuild(False)
