"""Convert every answer's snapshot into a pointer at its shown question

Each attempt answer's snapshot (kind, prompt, explanation, ``choices_shown``) becomes a
``shown_questions`` row, stored once per distinct content, and the answer keeps only its own
part: ``choice_order`` (the canonical indexes in the order shown, NULL when that is the
canonical order) and ``chosen`` (the picked canonical indexes), one character per index,
chr(ord("0") + index), as app/models/progress.py reads them.

A converted version's canonical order is its choices sorted by choice id (the order the course
created them in), so answers to the same question in different shuffles share one version. Each
choice is kept exactly as the snapshot had it without "chosen": snapshots recorded before a key
existed (``safety_critical``, ``misconception_text``) still lack it, and read as they did.

Batches of 5,000 answers by id range; on PostgreSQL each batch commits on its own (one INSERT
of its new versions, one UPDATE ... FROM VALUES of its answers), so no lock is held for long and
the schema change before it is committed first. Only answers not yet converted are read, so an
interrupted run resumes where it stopped. Progress is printed. (SQLite, which locks the whole
database for any write, converts in the migration's one transaction.)

Revision ID: a19000000002
Revises: a19000000001
Create Date: 2026-12-05 01:30:00.000000

"""

import hashlib
import json
import time
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a19000000002"
down_revision = "a19000000001"
branch_labels = None
depends_on = None

BATCH = 5_000
BASE = ord("0")

answers = sa.table(
    "attempt_answers",
    sa.column("id", sa.Integer()),
    sa.column("question_id", sa.Integer()),
    sa.column("kind", sa.String()),
    sa.column("prompt", sa.Text()),
    sa.column("explanation", sa.Text()),
    sa.column("choices_shown", sa.JSON()),
    sa.column("shown_question_id", sa.Integer()),
    sa.column("choice_order", sa.String()),
    sa.column("chosen", sa.String()),
)
shown = sa.table(
    "shown_questions",
    sa.column("id", sa.Integer()),
    sa.column("question_id", sa.Integer()),
    sa.column("kind", sa.String()),
    sa.column("prompt", sa.Text()),
    sa.column("explanation", sa.Text()),
    sa.column("choices", sa.JSON()),
    sa.column("content_hash", sa.String()),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
selections = sa.table(
    "answer_selections",
    sa.column("id", sa.Integer()),
    sa.column("answer_id", sa.Integer()),
    sa.column("choice_id", sa.Integer()),
    sa.column("position", sa.Integer()),
    sa.column("is_correct", sa.Boolean()),
    sa.column("misconception_code", sa.String()),
)


def _text(indexes) -> str:
    return "".join(chr(BASE + index) for index in indexes)


def _content_hash(version: dict) -> str:
    # The same canonical JSON as app/services/quizzes.py content_hash, so a converted version
    # equal to one the app records is the same row.
    canonical = json.dumps(version, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _split(row) -> tuple[dict, str | None, str]:
    """A snapshot row as (its version, its order, its picks)."""
    snapshot = list(row.choices_shown)
    canonical = sorted(
        range(len(snapshot)),
        key=lambda index: (snapshot[index].get("choice_id") is None, snapshot[index].get("choice_id") or 0, index),
    )
    version = {
        "question_id": row.question_id,
        "kind": row.kind,
        "prompt": row.prompt,
        "explanation": row.explanation,
        "choices": [{k: v for k, v in snapshot[index].items() if k != "chosen"} for index in canonical],
    }
    place = {shown_index: canonical_index for canonical_index, shown_index in enumerate(canonical)}
    order = [place[index] for index in range(len(snapshot))]
    chosen = sorted(place[index] for index, choice in enumerate(snapshot) if choice.get("chosen"))
    return version, (None if order == sorted(order) else _text(order)), _text(chosen)


def _convert(bind, first: int, last: int) -> int:
    rows = bind.execute(
        sa.select(answers).where(answers.c.id.between(first, last), answers.c.shown_question_id.is_(None))
    ).all()
    if not rows:
        return 0
    parts = {row.id: _split(row) for row in rows}
    hashes = {answer_id: _content_hash(version) for answer_id, (version, _, _) in parts.items()}
    versions = {hashes[answer_id]: version for answer_id, (version, _, _) in parts.items()}
    ids = dict(
        bind.execute(sa.select(shown.c.content_hash, shown.c.id).where(shown.c.content_hash.in_(versions))).all()
    )
    missing = [h for h in versions if h not in ids]
    if missing:
        now = datetime.now(UTC)
        bind.execute(shown.insert(), [{**versions[h], "content_hash": h, "created_at": now} for h in missing])
        ids.update(
            bind.execute(sa.select(shown.c.content_hash, shown.c.id).where(shown.c.content_hash.in_(missing))).all()
        )
    _write(
        bind, [(answer_id, ids[hashes[answer_id]], order, chosen) for answer_id, (_, order, chosen) in parts.items()]
    )
    return len(rows)


def _write(bind, converted: list[tuple[int, int, str | None, str]]) -> None:
    """Point each (answer id, version id, order, picks) at its version."""
    if bind.dialect.name == "postgresql":
        # One statement per batch (in the autocommit block, one short transaction), its rows
        # passed as four arrays: compiling 5,000 rows of VALUES would cost more than the update.
        answer_ids, version_ids, orders, picks = (list(column) for column in zip(*converted, strict=True))
        bind.execute(
            sa.text(
                "UPDATE attempt_answers SET shown_question_id = c.version_id, choice_order = c.shown_order, "
                "chosen = c.picked FROM unnest(CAST(:answer_ids AS integer[]), CAST(:version_ids AS integer[]), "
                "CAST(:orders AS text[]), CAST(:picks AS text[])) AS c(answer_id, version_id, shown_order, picked) "
                "WHERE attempt_answers.id = c.answer_id"
            ),
            {"answer_ids": answer_ids, "version_ids": version_ids, "orders": orders, "picks": picks},
        )
    else:  # SQLite has no arrays; the batch is one executemany
        bind.execute(
            answers.update()
            .where(answers.c.id == sa.bindparam("b_id"))
            .values(
                shown_question_id=sa.bindparam("b_version"),
                choice_order=sa.bindparam("b_order"),
                chosen=sa.bindparam("b_chosen"),
            ),
            [{"b_id": a, "b_version": v, "b_order": o, "b_chosen": c} for a, v, o, c in converted],
        )


def _convert_all(bind) -> None:
    started = time.monotonic()
    top = bind.scalar(sa.select(sa.func.max(answers.c.id))) or 0
    total = bind.scalar(sa.select(sa.func.count()).select_from(answers).where(answers.c.shown_question_id.is_(None)))
    done = 0
    for first in range(1, top + 1, BATCH):
        done += _convert(bind, first, first + BATCH - 1)
        if done and (first // BATCH) % 20 == 0:
            print(
                f"  a19000000002: {done:,}/{total:,} answers converted ({time.monotonic() - started:.0f} s)", flush=True
            )
    if total:
        print(f"  a19000000002: {done:,}/{total:,} answers converted ({time.monotonic() - started:.0f} s)", flush=True)


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        # SQLite locks the whole database for any write, and its migrations run with foreign
        # keys off in one transaction (migrations/env.py): committing batch by batch gains nothing.
        _convert_all(bind)
        return
    # Commits the schema change before it (releasing its lock), then each batch commits on its own.
    with op.get_context().autocommit_block():
        _convert_all(bind)


def _restore(bind, first: int, last: int, next_selection: int) -> int:
    rows = bind.execute(
        sa.select(
            answers.c.id,
            answers.c.choice_order,
            answers.c.chosen,
            shown.c.kind,
            shown.c.prompt,
            shown.c.explanation,
            shown.c.choices,
        )
        .join(shown, shown.c.id == answers.c.shown_question_id)
        .where(answers.c.id.between(first, last))
        .order_by(answers.c.id)
    ).all()
    updates, picks = [], []
    for row in rows:
        order = range(len(row.choices)) if row.choice_order is None else [ord(c) - BASE for c in row.choice_order]
        chosen = {ord(c) - BASE for c in row.chosen}
        snapshot = []
        for position, index in enumerate(order, start=1):
            choice = {}
            for key, value in row.choices[index].items():
                choice[key] = value
                if key == "correct":
                    choice["chosen"] = index in chosen
            choice.setdefault("chosen", index in chosen)
            snapshot.append(choice)
            if index in chosen:
                picks.append(
                    {
                        "id": next_selection + len(picks),
                        "answer_id": row.id,
                        "choice_id": choice.get("choice_id"),
                        "position": position,
                        "is_correct": bool(choice.get("correct")),
                        "misconception_code": choice.get("misconception"),
                    }
                )
        updates.append(
            {
                "b_id": row.id,
                "b_kind": row.kind,
                "b_prompt": row.prompt,
                "b_explanation": row.explanation,
                "b_shown": snapshot,
            }
        )
    if updates:
        bind.execute(
            answers.update()
            .where(answers.c.id == sa.bindparam("b_id"))
            .values(
                kind=sa.bindparam("b_kind"),
                prompt=sa.bindparam("b_prompt"),
                explanation=sa.bindparam("b_explanation"),
                choices_shown=sa.bindparam("b_shown", type_=sa.JSON()),
            ),
            updates,
        )
    if picks:
        named = {pick["choice_id"] for pick in picks if pick["choice_id"] is not None}
        existing = set(
            bind.scalars(sa.select(sa.column("id")).select_from(sa.table("choices")).where(sa.column("id").in_(named)))
        )
        for pick in picks:
            if pick["choice_id"] not in existing:
                pick["choice_id"] = None
        bind.execute(selections.insert(), picks)
    return len(picks)


def downgrade():
    # Rebuilds each answer's snapshot and selections from its version; a deleted choice's
    # selection keeps no choice id (as SET NULL had left it).
    bind = op.get_bind()
    # Rebuilt whole from the versions (a19000000003's downgrade left the table empty; straight
    # from this revision it still holds the old rows, which the rebuild reproduces).
    bind.execute(selections.delete())
    top = bind.scalar(sa.select(sa.func.max(answers.c.id))) or 0
    next_selection = 1
    for first in range(1, top + 1, BATCH):
        next_selection += _restore(bind, first, first + BATCH - 1, next_selection)
    if bind.dialect.name == "postgresql" and next_selection > 1:
        bind.execute(
            sa.text("SELECT setval(pg_get_serial_sequence('answer_selections', 'id'), :last)"),
            {"last": next_selection - 1},
        )
    with op.batch_alter_table("attempt_answers", schema=None) as batch_op:
        batch_op.alter_column("kind", existing_type=sa.String(length=20), nullable=False)
        batch_op.alter_column("prompt", existing_type=sa.Text(), nullable=False)
        batch_op.alter_column("explanation", existing_type=sa.Text(), nullable=False)
        batch_op.alter_column("choices_shown", existing_type=sa.JSON(), nullable=False)
