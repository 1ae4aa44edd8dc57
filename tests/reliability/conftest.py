"""The reliability suite: fuzz properties, schemathesis over the OpenAPI schema, the auth walk.

Every property runs under the hypothesis profile ``bastion-fuzz``: a few dozen examples in
CI, and ``BASTION_FUZZ_EXAMPLES`` examples per property when that variable is set (the long
run, ``benchmarks/reliability.py``, divides its total among the properties). Each example
has a deadline of :data:`HANG_S` seconds: an input that takes longer counts as a hang and
fails the property, as an unexpected exception counts as a crash.

The gateway fixtures build the real app (``create_app``) over the shipped scripted
upstream and a SQLite store in a temporary directory, the way ``tests/gateway`` does.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from bastion.gateway import GatewaySettings, ScriptedUpstream, load_settings
from bastion.oversight import OversightStore, open_store

HANG_S = 2.0
"""An example that runs longer than this is a hang (hypothesis ``deadline``)."""

CI_EXAMPLES = 60
"""Examples per property in CI (the whole suite stays well under 90 s on 2 cores)."""

_examples = int(os.environ.get("BASTION_FUZZ_EXAMPLES") or CI_EXAMPLES)
settings.register_profile(
    "bastion-fuzz",
    max_examples=_examples,
    deadline=timedelta(seconds=HANG_S),
    # Generating hostile inputs (YAML documents, CSV files) is slower than hypothesis likes.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    # The long run must not grow the example database by 100,000 entries.
    database=None if _examples > CI_EXAMPLES else settings.default.database,
    print_blob=True,
)


@pytest.fixture(scope="session")
def gateway_settings() -> GatewaySettings:
    """Gateway settings over the scripted upstream, rate limits off (fuzzing sends many
    requests from one key)."""
    overrides = {"upstream.target": "scripted", "rate_limit.per_second": 0}
    return load_settings(environ={}, overrides=overrides)


@pytest.fixture(scope="module")
def sqlite_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OversightStore]:
    """A SQLite oversight store shared by one module's tests."""
    path: Path = tmp_path_factory.mktemp("store") / "oversight.db"
    store = open_store(f"sqlite:///{path}")
    yield store
    store.close()


@pytest.fixture(scope="module")
def upstream() -> ScriptedUpstream:
    return ScriptedUpstream(["Happy to help with that."])
