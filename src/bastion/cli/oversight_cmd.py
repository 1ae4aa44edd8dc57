"""``bastion audit``, ``bastion review``, ``bastion keys`` and ``bastion users``: the
oversight store from the command line (the same store ``bastion serve`` records to)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bastion.cli._common import clean_errors, json_text, printable

if TYPE_CHECKING:
    from bastion.oversight import OversightStore

__all__ = ["audit_app", "keys_app", "review_app", "users_app"]

_PASSWORD_ENV = "BASTION_USER_PASSWORD"

_STORE_ENV = "BASTION_GATEWAY_STORE_URL"
StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store",
        help=f"Store URL (sqlite:///FILE or postgresql://...); else ${_STORE_ENV}, "
        "else sqlite:///bastion-oversight.db.",
    ),
]


def _typer(name: str, text: str) -> typer.Typer:
    return typer.Typer(
        name=name,
        help=text,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )


audit_app = _typer("audit", "The tamper-evident audit log.")
review_app = _typer("review", "The human review queue and its labelled examples.")
keys_app = _typer("keys", "API keys of the gateway (scopes client | reviewer | admin).")
users_app = _typer("users", "Dashboard users (roles reviewer | admin).")


def _open(url: str | None) -> OversightStore:
    from bastion.oversight import DEFAULT_STORE_URL, open_store

    return open_store(url or os.environ.get(_STORE_ENV) or DEFAULT_STORE_URL)


@audit_app.command("verify")
@clean_errors
def verify(store: StoreOption = None) -> None:
    """Walk the hash chain; exit 1 and name the first broken link if there is one."""
    opened = _open(store)
    try:
        report = opened.verify()
    finally:
        opened.close()
    if report.ok:
        typer.echo(f"audit log ok: {report.entries} entries, chain intact")
        return
    typer.echo(
        f"audit log BROKEN at entry {report.broken_seq}: {report.problem} "
        f"({report.entries} entries read)",
        err=True,
    )
    raise typer.Exit(1)


@review_app.command("export-labels")
@clean_errors
def export_labels(
    out: Annotated[Path, typer.Option("--out", help="JSONL file to write.")],
    store: StoreOption = None,
) -> None:
    """Write every overturned decision as a labelled example (JSONL) for ``bastion train``."""
    from dataclasses import asdict

    opened = _open(store)
    try:
        examples = opened.labelled_examples()
    finally:
        opened.close()
    lines = [json.dumps(asdict(e), ensure_ascii=False) for e in examples]
    out.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    typer.echo(f"wrote {len(lines)} labelled examples to {out}")


@review_app.command("queue")
@clean_errors
def queue(store: StoreOption = None, limit: int = 50) -> None:
    """List the open review items (JSON)."""
    from dataclasses import asdict

    opened = _open(store)
    try:
        items = opened.queue(limit=limit)
    finally:
        opened.close()
    typer.echo(json_text([asdict(i) for i in items]))


@keys_app.command("create")
@clean_errors
def create_key(
    scope: Annotated[str, typer.Option("--scope", help="client | reviewer | admin")],
    name: Annotated[str, typer.Option("--name", help="A label for people.")] = "",
    store: StoreOption = None,
) -> None:
    """Issue a key; its secret is printed once, only its sha256 is kept."""
    from bastion.core.errors import InputError
    from bastion.oversight import Scope

    try:
        chosen = Scope(scope)
    except ValueError:
        raise InputError(f"unknown scope {scope!r}; use client, reviewer or admin") from None
    opened = _open(store)
    try:
        issued = opened.create_key(name, chosen)
    finally:
        opened.close()
    typer.echo(
        f"created {chosen.value} key {issued.key.id} ({printable(issued.key.name)})", err=True
    )
    typer.echo(issued.secret)


@keys_app.command("list")
@clean_errors
def list_keys(store: StoreOption = None) -> None:
    """List keys (ids, names, scopes, whether revoked); never secrets."""
    opened = _open(store)
    try:
        keys = opened.list_keys()
    finally:
        opened.close()
    for key in keys:
        state = "active" if key.active else f"revoked {key.revoked_at:%Y-%m-%d %H:%M}"
        typer.echo(f"{key.id}  {key.scope.value:<8}  {state:<22}  {printable(key.name)}")


@keys_app.command("revoke")
@clean_errors
def revoke_key(
    key_id: Annotated[str, typer.Argument(help="The key id (from `bastion keys list`).")],
    store: StoreOption = None,
) -> None:
    """Revoke a key: requests with it are refused from now on."""
    opened = _open(store)
    try:
        key = opened.revoke_key(key_id)
    finally:
        opened.close()
    typer.echo(f"revoked key {key.id} ({printable(key.name)})")


@users_app.command("create")
@clean_errors
def create_user(
    username: Annotated[str, typer.Argument(help="The login name.")],
    role: Annotated[str, typer.Option("--role", help="reviewer | admin")] = "reviewer",
    store: StoreOption = None,
) -> None:
    """Add a dashboard user. The password comes from $BASTION_USER_PASSWORD, else a
    hidden prompt (asked twice); at least 8 characters. Only its scrypt hash is kept."""
    from bastion.core.errors import InputError
    from bastion.oversight import Scope

    try:
        chosen = Scope(role)
    except ValueError:
        raise InputError(f"unknown role {role!r}; use reviewer or admin") from None
    password = os.environ.get(_PASSWORD_ENV) or typer.prompt(
        f"password for {username}", hide_input=True, confirmation_prompt=True
    )
    opened = _open(store)
    try:
        user = opened.create_user(username, password, role=chosen)
    finally:
        opened.close()
    typer.echo(f"created {user.role.value} {printable(user.username)}")


@users_app.command("list")
@clean_errors
def list_users(store: StoreOption = None) -> None:
    """List dashboard users (names, roles, when created); never passwords."""
    opened = _open(store)
    try:
        users = opened.list_users()
    finally:
        opened.close()
    for user in users:
        typer.echo(f"{printable(user.username)}  {user.role.value:<8}  {user.created_at:%Y-%m-%d}")
