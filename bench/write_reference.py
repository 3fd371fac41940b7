"""The write reference: a quiz submission's rows inserted in ONE transaction with psycopg, then
a 302, on the same path as the app's submission (a route of bench/reference.py's app).

What a submission stores is read from the database when a worker first needs it, so the
reference keeps matching the app's schema as it changes: the answer tables that exist
(ANSWER_TABLES), their columns (information_schema), and their foreign keys to one another
(pg_constraint). Each lesson's most recent attempt is the pattern: a POST inserts a copy of its
quiz_attempts row (with the learner, a fresh submission key and the time), of every row hanging
off it in the answer tables (pointing at the new rows, whatever their keys are), and upserts
the learner's lesson_progress row, as the app does. Rows the answers merely point at (the
stored versions of questions, shown_questions) are shared, not copied: the app stores each
version once. What the app does besides (grading against the live questions, review cards,
xAPI, the check for an earlier attempt with the same key) the reference leaves out.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass, field

from flask import Flask, abort, current_app, g, redirect, request, session

# The tables of one submission, parents first; those that do not exist are skipped.
ROOT_TABLE = "quiz_attempts"
ANSWER_TABLES = ("attempt_answers", "answer_selections")

SUBMISSION_KEY = re.compile(r"^[0-9a-f]{32}$")  # as app/services/quizzes.py checks it

COLUMNS = (
    "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
    "AND table_name = %s AND is_generated = 'NEVER' AND is_identity = 'NO' "
    "AND COALESCE(column_default, '') NOT LIKE 'nextval(%%' ORDER BY ordinal_position"
)

# A table's foreign keys: (its columns, the table they point at, that table's columns), in order.
FOREIGN_KEYS = (
    "SELECT (SELECT array_agg(a.attname ORDER BY k.n) FROM unnest(c.conkey) WITH ORDINALITY k(attnum, n) "
    "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum), c.confrelid::regclass::text, "
    "(SELECT array_agg(a.attname ORDER BY k.n) FROM unnest(c.confkey) WITH ORDINALITY k(attnum, n) "
    "JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum) "
    "FROM pg_constraint c WHERE c.contype = 'f' AND c.conrelid = %s::regclass ORDER BY c.conname"
)


def quoted(name: str) -> str:
    """An identifier as SQL text."""
    return '"' + name.replace('"', '""') + '"'


@dataclass
class TableShape:
    """How one table of a submission is copied: its columns, its links to the tables above it,
    and the columns the tables below it point at."""

    name: str
    columns: list[str]
    parents: list[tuple[list[str], str, list[str]]]  # (columns here, parent table, parent's columns)
    keys: list[str] = field(default_factory=list)  # columns children point at (RETURNING them)


def submission_shape(conn) -> list[TableShape]:
    """The tables a submission writes, as the database defines them now (parents first)."""
    names = [ROOT_TABLE] + [
        name for name in ANSWER_TABLES if conn.execute("SELECT to_regclass(%s)", (name,)).fetchone()[0]
    ]
    shapes: list[TableShape] = []
    for name in names:
        columns = [row[0] for row in conn.execute(COLUMNS, (name,))]
        parents = [
            (list(mine), parent, list(theirs))
            for mine, parent, theirs in conn.execute(FOREIGN_KEYS, (name,))
            if parent in names[: names.index(name)]
        ]
        shapes.append(TableShape(name, columns, parents))
    by_name = {shape.name: shape for shape in shapes}
    for shape in shapes:
        for _, parent, theirs in shape.parents:
            by_name[parent].keys += [column for column in theirs if column not in by_name[parent].keys]
    return shapes


@dataclass
class Pattern:
    """A lesson's pattern submission: each table's rows, every value as text (PostgreSQL casts
    it back to the column's type), and the values of the columns children point at."""

    rows: dict[str, list[list[str | None]]]
    keys: dict[str, list[tuple]]
    passed: bool


def read_pattern(conn, shapes: list[TableShape], lesson_id: int) -> Pattern | None:
    """The lesson's most recent attempt and the rows hanging off it, or None if it has none."""
    rows: dict[str, list[list[str | None]]] = {}
    keys: dict[str, list[tuple]] = {}
    by_name = {shape.name: shape for shape in shapes}
    for shape in shapes:
        selected = ", ".join(f"{quoted(column)}::text" for column in shape.columns + shape.keys)
        table = quoted(shape.name)
        if not shape.parents:  # the attempt
            query = f"SELECT {selected} FROM {table} WHERE lesson_id = %s ORDER BY id DESC LIMIT 1"  # noqa: S608
            found = conn.execute(query, (lesson_id,)).fetchall()
            if not found:
                return None
        else:  # the rows pointing at the pattern's rows in the first table they point at
            mine, parent, theirs = shape.parents[0]
            wanted = [_pick(key, by_name[parent].keys, theirs) for key in keys[parent]]
            found = []
            if wanted:
                # The columns as they are (the text values are cast to their types), so the
                # lookup uses the table's index: cast to text, it read every row (a million learners' answers).
                match = "(" + ", ".join(quoted(column) for column in mine) + ")"
                places = ", ".join("(" + ", ".join(["%s"] * len(mine)) + ")" for _ in wanted)
                query = f"SELECT {selected} FROM {table} WHERE {match} IN ({places}) ORDER BY 1, 2"  # noqa: S608
                found = conn.execute(query, [value for key in wanted for value in key]).fetchall()
        width = len(shape.columns)
        rows[shape.name] = [list(row[:width]) for row in found]
        keys[shape.name] = [tuple(row[width:]) for row in found]
    root = shapes[0]
    passed = "passed" in root.columns and rows[root.name][0][root.columns.index("passed")] == "true"
    return Pattern(rows, keys, passed)


def _pick(key: tuple, names: list[str], wanted: list[str]) -> tuple:
    """The values of ``wanted`` columns from a key tuple holding ``names``."""
    return tuple(key[names.index(name)] for name in wanted)


def insert_submission(conn, shapes: list[TableShape], pattern: Pattern, *, user_id: int, submission_key: str) -> int:
    """Insert a copy of the pattern for this learner in one transaction; the new attempt's id
    (or, for a key already used, the attempt recorded with it)."""
    root = shapes[0]
    by_name = {shape.name: shape for shape in shapes}
    overrides = {"user_id": str(user_id), "submission_key": submission_key}
    attempt_id = 0
    with conn.transaction(), conn.cursor() as cur:
        # Per table: the pattern's key values -> the copy's (for the tables below to point at).
        new_keys: dict[str, dict[tuple, tuple]] = {}
        for shape in shapes:
            returned_columns = (["id"] if shape is root else []) + shape.keys
            query = "INSERT INTO {} ({}) VALUES ({}){} RETURNING {}".format(  # noqa: S608 - names from the catalog
                quoted(shape.name),
                ", ".join(quoted(column) for column in shape.columns),
                ", ".join("now()" if column == "submitted_at" else "%s" for column in shape.columns),
                " ON CONFLICT DO NOTHING" if shape is root else "",
                ", ".join(f"{quoted(column)}::text" for column in returned_columns) or "1",
            )
            params = []
            for row in pattern.rows[shape.name]:
                values = dict(zip(shape.columns, row, strict=True))
                for mine, parent, theirs in shape.parents:
                    copies = {
                        _pick(old, by_name[parent].keys, theirs): _pick(new, by_name[parent].keys, theirs)
                        for old, new in new_keys[parent].items()
                    }
                    new = copies.get(tuple(values[column] for column in mine))
                    if new is not None:
                        values.update(zip(mine, new, strict=True))
                if shape is root:
                    values.update(overrides)
                params.append([value for column, value in values.items() if column != "submitted_at"])
            cur.executemany(query, params, returning=True)
            returned: list[tuple] = []
            while True:
                returned += cur.fetchall()
                if not cur.nextset():
                    break
            if shape is root:
                if not returned:  # the same key again: the attempt recorded with it
                    cur.execute(
                        "SELECT id FROM quiz_attempts WHERE user_id = %s AND submission_key = %s",
                        (user_id, submission_key),
                    )
                    return int(cur.fetchone()[0])
                attempt_id = int(returned[0][0])
            offset = 1 if shape is root else 0
            new_keys[shape.name] = {
                old: tuple(new[offset:]) for old, new in zip(pattern.keys[shape.name], returned, strict=True)
            }
        lesson_id = pattern.rows[root.name][0][root.columns.index("lesson_id")]
        cur.execute(
            "INSERT INTO lesson_progress (user_id, lesson_id, opened_at, completed_at) "
            "VALUES (%s, %s, now(), CASE WHEN %s THEN now() END) ON CONFLICT (user_id, lesson_id) "
            "DO UPDATE SET completed_at = COALESCE(lesson_progress.completed_at, EXCLUDED.completed_at)",
            (user_id, lesson_id, pattern.passed),
        )
    return attempt_id


def register_write_reference(app: Flask) -> None:
    """Add the POST of the quiz submission to the reference app (bench/reference.py)."""
    cache: dict = {}

    @app.post("/courses/<course_slug>/lessons/<lesson_slug>/quiz")
    def submit(course_slug: str, lesson_slug: str):
        reference = current_app.extensions["bench_reference"]
        lesson_id = reference["lessons"]().get(lesson_slug)
        if course_slug != reference["course"] or lesson_id is None:
            abort(404)
        if g.user_id is None:
            return redirect("/auth/login")
        token = request.form.get("csrf_token", "")
        if not token or not hmac.compare_digest(token, session.get("csrf", "")):
            abort(400)
        key = request.form.get("submission_key", "")
        if not SUBMISSION_KEY.match(key):
            abort(400)
        conn = reference["database"].get()
        if "shapes" not in cache:
            cache["shapes"] = submission_shape(conn)
        if lesson_id not in cache:
            cache[lesson_id] = read_pattern(conn, cache["shapes"], lesson_id)
        pattern = cache[lesson_id]
        if pattern is None:
            abort(404)  # no attempt to copy yet
        attempt_id = insert_submission(conn, cache["shapes"], pattern, user_id=g.user_id, submission_key=key)
        return redirect(f"/courses/{course_slug}/lessons/{lesson_slug}/quiz/attempts/{attempt_id}")
