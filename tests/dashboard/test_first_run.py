"""First run: an admin appears when nobody can log in, with a password shown once."""

from __future__ import annotations

import pytest

from bastion.core.errors import InputError
from bastion.dashboard import ensure_reviewer
from bastion.oversight import Scope
from bastion.oversight.fakes import MemoryStore


def test_first_run_creates_an_admin_with_a_random_password() -> None:
    store = MemoryStore()
    created = ensure_reviewer(store)
    assert created is not None and created.generated
    assert created.username == "admin" and len(created.password) >= 16
    assert "password" not in repr(created) or created.password not in repr(created)
    user = store.authenticate_user("admin", created.password)
    assert user is not None and user.role is Scope.ADMIN
    assert ensure_reviewer(store) is None  # second start: nothing changes


def test_first_run_uses_a_given_password_and_checks_it() -> None:
    store = MemoryStore()
    created = ensure_reviewer(store, password="from-the-environment")
    assert created is not None and not created.generated
    assert store.authenticate_user("admin", "from-the-environment") is not None
    with pytest.raises(InputError):
        ensure_reviewer(MemoryStore(), password="short")


def test_an_existing_reviewer_means_no_admin_is_created() -> None:
    store = MemoryStore()
    store.create_user("ana", "long-enough-pw", role=Scope.REVIEWER)
    assert ensure_reviewer(store) is None
    assert [u.username for u in store.list_users()] == ["ana"]


def test_startup_lines_print_the_url_and_the_password_once() -> None:
    from bastion.dashboard import startup_lines
    from bastion.gateway import load_settings

    settings = load_settings(environ={}, overrides={"host": "0.0.0.0", "port": 8123})
    store = MemoryStore()
    first = startup_lines(store, settings, environ={})
    assert first[0] == "dashboard: http://127.0.0.1:8123/dashboard/"
    assert "created user admin with password" in first[1]
    assert startup_lines(store, settings, environ={}) == first[:1]
    given = startup_lines(
        MemoryStore(), settings, environ={"BASTION_ADMIN_PASSWORD": "pw-12345678"}
    )
    assert given[1] == "dashboard: created user admin with the password in $BASTION_ADMIN_PASSWORD"
    off = settings.model_copy(
        update={"dashboard": settings.dashboard.model_copy(update={"enabled": False})}
    )
    assert startup_lines(MemoryStore(), off, environ={}) == []
