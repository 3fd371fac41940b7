"""The roles and the role sets, defined once in app/models/user.py."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import CheckConstraint

from app.models import COUNSELLING_ROLES, Role, User
from app.permissions import can_counsel, has_own_clients


def test_the_database_accepts_exactly_the_roles_of_the_enum():
    checks = {str(c.sqltext) for c in User.__table__.constraints if isinstance(c, CheckConstraint)}
    assert "role IN ('learner', 'counsellor', 'admin')" in checks
    assert [role.value for role in Role] == ["learner", "counsellor", "admin"]


@pytest.mark.parametrize("role", list(Role))
def test_the_counsellor_area_is_open_to_the_counselling_roles_only(role):
    user = SimpleNamespace(is_authenticated=True, role=role)
    assert can_counsel(user) is (role in COUNSELLING_ROLES)
    assert (role in COUNSELLING_ROLES) is (role in (Role.COUNSELLOR, Role.ADMIN))


@pytest.mark.parametrize("role", list(Role))
def test_only_a_counsellor_has_clients_of_their_own_to_stop_seeing(role):
    """An admin sees every learner in the counsellor area, through no link of their own."""
    assert has_own_clients(SimpleNamespace(is_authenticated=True, role=role)) is (role == Role.COUNSELLOR)
    assert has_own_clients(SimpleNamespace(is_authenticated=False, role=role)) is False
    assert has_own_clients(None) is False
