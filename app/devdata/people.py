"""Seeded accounts and the sharing between them: staff (admins, then counsellors made by the
first admin), learners, counsellor links made by an accepted invitation or by an admin, pending
invitations, and the counsellors' views of their clients' pages afterwards."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from app.devdata.rows import Sink, json_value
from app.models import AuditEvent, CounsellorLink, Invitation, ProgressView, Role, User
from app.services.sharing import INVITATION_LIFETIME

if TYPE_CHECKING:
    from app.devdata.population import SeedReport

SEED_EMAIL_DOMAIN = "seed.example.org"
LINK_BY_ADMIN = 0.05  # links an admin made on a learner's behalf (audited); the rest came by invitation
LINK_REVOKED = 0.03
ENDED_BY_COUNSELLOR = 0.3  # of the links that ended
VIEWS_PER_LINK = (0, 0, 1, 1, 1, 2, 2, 3, 4, 6)
PENDING_INVITATIONS_PER_COUNSELLOR = 2

FIRST_NAMES = (  # noqa: SIM905 - easier to read and edit as words
    "Aaron Abi Adam Aisha Alex Ali Amara Amy Andy Anya Ash Beth Bilal Bo Carla Cat Chen Chris Dan Dee "
    "Eli Ellie Emeka Erin Faye Femi Finn Gail Gus Hana Harry Ian Imani Isla Jack Jade Jas Jo Kai Kemi "
    "Kim Lee Leo Liam Lou Maria Mo Nadia Neil Nia Noor Ola Omar Pat Paul Priya Raj Rosa Ruth Sam Sana "
    "Sean Tara Theo Tom Una Val Wes Yan Zara Zoe"
).split()
LAST_NAMES = (  # noqa: SIM905 - easier to read and edit as words
    "Adams Ahmed Ali Baker Bell Brown Campbell Chen Clarke Cole Davies Evans Fox Green Hall Hughes "
    "Hussain Jones Kaur Khan Kelly King Lee Lewis Martin Mensah Moore Murphy Nowak Okafor Patel Price "
    "Reid Roberts Rossi Shah Singh Smith Taylor Thomas Walker Ward Watson White Williams Wilson Wood "
    "Wright Young"
).split()


def random_name(rng: random.Random) -> str:
    """A first and a last name."""
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def seed_email(prefix: str, role: Role, n: int) -> str:
    """``seed<seed>.<role><n>@seed.example.org``: ``prefix`` is ``seed<seed>.``."""
    return f"{prefix}{role.value}{n}@{SEED_EMAIL_DOMAIN}"


def add_user(
    sink: Sink,
    *,
    email: str,
    name: str,
    password_hash: str,
    role: Role,
    created_at: datetime,
    last_login_at: datetime | None = None,
) -> int:
    """Queue an active account and return its id; it last logged in at ``last_login_at``, else at registration."""
    user_id = sink.take_id(User)
    sink.add(
        User,
        {
            "id": user_id,
            "email": email,
            "display_name": name,
            "password_hash": password_hash,
            "role": role.value,
            "is_active": True,
            "created_at": created_at,
            "last_login_at": last_login_at or created_at,
            "session_version": 0,
        },
    )
    return user_id


def add_audit_event(sink: Sink, *, actor_id: int, subject_id: int, action: str, details: dict, at: datetime) -> None:
    """Queue an audit event, as the admin service records one."""
    sink.add(
        AuditEvent,
        {
            "id": sink.take_id(AuditEvent),
            "actor_id": actor_id,
            "subject_id": subject_id,
            "action": action,
            "details": json_value(details),
            "created_at": at,
        },
    )


def add_invitation(
    sink: Sink, rng: random.Random, *, counsellor_id: int, made: datetime, used_at: datetime | None, used_by: int | None
) -> None:
    """Queue an invitation made at ``made`` for the lifetime sharing gives it; used when ``used_by``."""
    sink.add(
        Invitation,
        {
            "id": sink.take_id(Invitation),
            "counsellor_id": counsellor_id,
            "code_hash": f"{rng.getrandbits(256):064x}",
            "created_at": made,
            "expires_at": made + INVITATION_LIFETIME,
            "used_at": used_at,
            "accepted": True if used_by is not None else None,
            "used_by_id": used_by,
            "label": None,  # a counsellor's private note: seeded invitations have none
            "cancelled_at": None,
        },
    )


def add_staff(
    sink: Sink,
    rng: random.Random,
    report: SeedReport,
    *,
    prefix: str,
    admins: int,
    counsellors: int,
    password_hash: str,
    start: datetime,
    now: datetime,
) -> None:
    """Admins, then counsellors (made counsellors by the first admin, audited), each counsellor
    with some invitations still pending."""
    for n in range(1, admins + 1):
        when = start - timedelta(days=60 + rng.uniform(0, 30))
        email = seed_email(prefix, Role.ADMIN, n)
        user_id = add_user(
            sink, email=email, name=random_name(rng), password_hash=password_hash, role=Role.ADMIN, created_at=when
        )
        report.admin_ids.append(user_id)
    admin_id = report.admin_ids[0] if report.admin_ids else None
    for n in range(1, counsellors + 1):
        when = start - timedelta(days=rng.uniform(1, 40))
        email = seed_email(prefix, Role.COUNSELLOR, n)
        user_id = add_user(
            sink, email=email, name=random_name(rng), password_hash=password_hash, role=Role.COUNSELLOR, created_at=when
        )
        report.counsellor_ids.append(user_id)
        if admin_id is not None:
            details = {"from": Role.LEARNER.value, "to": Role.COUNSELLOR.value}
            changed = when + timedelta(minutes=rng.uniform(5, 600))
            add_audit_event(
                sink, actor_id=admin_id, subject_id=user_id, action="role_changed", details=details, at=changed
            )
            report.audit_events += 1
        for _ in range(PENDING_INVITATIONS_PER_COUNSELLOR):
            made = now - timedelta(days=rng.uniform(0, 13))
            add_invitation(sink, rng, counsellor_id=user_id, made=made, used_at=None, used_by=None)
            report.invitations += 1
    report.admins, report.counsellors = admins, counsellors


def link_learner(
    sink: Sink,
    rng: random.Random,
    report: SeedReport,
    *,
    now: datetime,
    learner_id: int,
    name: str,
    created_at: datetime,
    cumulative: list[float],
) -> None:
    """Share this learner's progress with one counsellor (picked by caseload weight), as an
    invitation or an admin would, with the counsellor's views of the client page afterwards."""
    admin_id = report.admin_ids[0] if report.admin_ids else None
    counsellor_id = rng.choices(report.counsellor_ids, cum_weights=cumulative)[0]
    linked_at = min(now, created_at + timedelta(hours=rng.uniform(0.1, 24 * 10)))
    by_admin = admin_id is not None and rng.random() < LINK_BY_ADMIN
    if admin_id is not None and by_admin:
        details = {"counsellor_id": counsellor_id}
        add_audit_event(
            sink, actor_id=admin_id, subject_id=learner_id, action="link_created", details=details, at=linked_at
        )
        report.audit_events += 1
    else:
        made = linked_at - timedelta(hours=rng.uniform(0.05, 24 * 5))
        add_invitation(sink, rng, counsellor_id=counsellor_id, made=made, used_at=linked_at, used_by=learner_id)
        report.invitations += 1
    revoked_at = None
    if rng.random() < LINK_REVOKED:
        revoked_at = linked_at + (now - linked_at) * rng.random()
    sink.add(
        CounsellorLink,
        {
            "id": sink.take_id(CounsellorLink),
            "counsellor_id": counsellor_id,
            "learner_id": learner_id,
            "created_at": linked_at,
            "revoked_at": revoked_at,
            # Most ended links are the learner's doing; a few a counsellor's (a client discharged).
            "ended_by_counsellor": revoked_at is not None and rng.random() < ENDED_BY_COUNSELLOR,
            "created_by_id": admin_id if by_admin else learner_id,
            "label": None,  # the invitation's, which seeded invitations have none of
            # The database's triggers write their own (app/models/caseload_names.py): the same, lowercased.
            "client_name_key": name.lower(),
        },
    )
    report.links += 1
    until = revoked_at or now
    for _ in range(rng.choice(VIEWS_PER_LINK)):
        viewed = linked_at + (until - linked_at) * rng.random()
        sink.add(
            ProgressView,
            {
                "id": sink.take_id(ProgressView),
                "viewer_id": counsellor_id,
                "learner_id": learner_id,
                "viewer_role": Role.COUNSELLOR.value,
                "viewed_at": viewed,
            },
        )
        report.progress_views += 1
