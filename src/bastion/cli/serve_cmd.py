"""``bastion serve``: run the guarded, OpenAI-compatible gateway with uvicorn."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bastion.cli._common import clean_errors
from bastion.core.errors import ConfigError

if TYPE_CHECKING:
    from fastapi import FastAPI

    from bastion.gateway import GatewaySettings

__all__ = ["serve", "serve_app", "startup_banner"]

serve_app = typer.Typer(
    name="serve",
    help="Run the guarded, OpenAI-compatible gateway.",
    add_completion=False,
    pretty_exceptions_enable=False,
)

_INSTALL = "the gateway needs the serve extra: pip install 'bastion[serve]'"


@serve_app.callback(invoke_without_command=True)
@clean_errors
def serve(  # noqa: PLR0913 - one parameter per command-line flag
    config: Annotated[
        Path | None, typer.Option(help="Guard configuration YAML (layers, policy, context).")
    ] = None,
    settings: Annotated[
        Path | None, typer.Option(help="Gateway settings YAML (see docs/gateway.md).")
    ] = None,
    upstream: Annotated[
        str | None,
        typer.Option(help="embedded | scripted | an OpenAI-compatible base URL."),
    ] = None,
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port.")] = None,
    records: Annotated[
        Path | None, typer.Option(help="Append a guard_decision record per decision to FILE.")
    ] = None,
    store: Annotated[
        str | None,
        typer.Option(help="Oversight store URL (default sqlite:///bastion-oversight.db)."),
    ] = None,
) -> None:
    """Serve /v1/chat/completions, /v1/moderations and /v1/guard/check, guarded."""
    try:
        import uvicorn

        from bastion.gateway import create_app, load_settings
    except ImportError as exc:
        raise ConfigError(f"{_INSTALL} ({exc})") from None
    from bastion.oversight import DEFAULT_STORE_URL

    overrides = {
        "host": host,
        "port": port,
        "upstream.target": upstream,
        "records": records,
        "store_url": store,
    }
    loaded = load_settings(settings, guard_file=config, environ=os.environ, overrides=overrides)
    if loaded.store_url is None:
        loaded = loaded.model_copy(update={"store_url": DEFAULT_STORE_URL})
    app = create_app(loaded)
    for line in startup_banner(app, loaded):
        typer.echo(line, err=True)
    uvicorn.run(
        app,
        host=loaded.host,
        port=loaded.port,
        log_level="info",
        access_log=loaded.access_log,
        timeout_keep_alive=loaded.keep_alive_s,
    )


def startup_banner(app: FastAPI, loaded: GatewaySettings) -> list[str]:
    """What ``bastion serve`` prints before it listens: the address, who may call what
    (open mode covers client traffic only, design note 0051), and the dashboard's URL and
    first-run admin password (design note 0027)."""
    from bastion.dashboard import startup_lines
    from bastion.gateway.auth import access_summary

    store = app.state.gateway.store
    lines = [
        f"bastion gateway on http://{loaded.host}:{loaded.port} "
        f"(upstream: {loaded.upstream.target}; docs at /docs)",
        access_summary(store),
    ]
    if store is not None:
        lines += startup_lines(store, loaded, environ=os.environ)
    return lines
