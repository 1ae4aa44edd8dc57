"""``bastion keys``, ``bastion audit verify`` and ``bastion review`` on a SQLite store."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from bastion.cli.app import app
from bastion.oversight import open_store


def test_keys_create_list_revoke(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'o.db'}"
    runner = CliRunner()
    created = runner.invoke(
        app, ["keys", "create", "--scope", "reviewer", "--name", "ann", "--store", url]
    )
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip().splitlines()[-1]
    store = open_store(url)
    key = store.authenticate_key(secret)
    store.close()
    assert key is not None and key.name == "ann"
    listed = runner.invoke(app, ["keys", "list", "--store", url])
    assert key.id in listed.stdout and "reviewer" in listed.stdout and secret not in listed.stdout
    assert runner.invoke(app, ["keys", "revoke", key.id, "--store", url]).exit_code == 0
    assert "revoked" in runner.invoke(app, ["keys", "list", "--store", url]).stdout
    bad = runner.invoke(app, ["keys", "create", "--scope", "root", "--store", url])
    assert bad.exit_code == 1 and "unknown scope" in bad.output
    missing = runner.invoke(app, ["keys", "revoke", "nope", "--store", url])
    assert missing.exit_code == 1


def test_audit_verify_reports_the_broken_link(tmp_path: Path, make_event: object) -> None:
    url = f"sqlite:///{tmp_path / 'o.db'}"
    store = open_store(url)
    for n in range(3):
        store.record(make_event(f"t{n}", request_id=str(n)))  # type: ignore[operator]
    store.close()
    runner = CliRunner()
    assert (
        "3 entries, chain intact" in runner.invoke(app, ["audit", "verify", "--store", url]).stdout
    )
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_entries SET category = 'x' WHERE seq = 2"))
    engine.dispose()
    broken = runner.invoke(app, ["audit", "verify", "--store", url])
    assert broken.exit_code == 1 and "BROKEN at entry 2" in broken.output
    assert runner.invoke(app, ["review", "queue", "--store", url]).stdout.strip() == "[]"


def test_users_create_and_list(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'o.db'}"
    runner = CliRunner()
    env = {"BASTION_USER_PASSWORD": "correct horse"}
    made = runner.invoke(app, ["users", "create", "bea", "--store", url], env=env)
    assert made.exit_code == 0, made.output
    assert "created reviewer bea" in made.stdout
    prompted = runner.invoke(
        app,
        ["users", "create", "cy", "--role", "admin", "--store", url],
        input="long enough\nlong enough\n",
        env={"BASTION_USER_PASSWORD": ""},
    )
    assert prompted.exit_code == 0, prompted.output
    store = open_store(url)
    assert store.authenticate_user("bea", "correct horse") is not None
    assert store.authenticate_user("cy", "long enough") is not None
    store.close()
    listed = runner.invoke(app, ["users", "list", "--store", url]).stdout
    assert "bea" in listed and "admin" in listed and "correct horse" not in listed
    taken = runner.invoke(app, ["users", "create", "bea", "--store", url], env=env)
    assert taken.exit_code == 1
    short = runner.invoke(
        app, ["users", "create", "dee", "--store", url], env={"BASTION_USER_PASSWORD": "short"}
    )
    assert short.exit_code == 1
    client = runner.invoke(
        app, ["users", "create", "eve", "--role", "client", "--store", url], env=env
    )
    assert client.exit_code == 1
