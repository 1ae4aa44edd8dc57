"""Pins the public surface: changing it must be a deliberate, visible edit."""

from __future__ import annotations

import importlib

import pytest

import bastion

PUBLIC = {
    "bastion": [
        "Action",
        "BastionError",
        "Decision",
        "Guard",
        "GuardConfig",
        "Limit",
        "Message",
        "Policy",
        "Role",
        "Verdict",
        "__version__",
        "load_config",
        "load_policy",
    ],
    "bastion.core": [
        "Action",
        "BastionError",
        "Decision",
        "Limit",
        "Message",
        "NormalizedText",
        "Role",
        "Verdict",
        "View",
        "as_messages",
    ],
    "bastion.oversight": [
        "DEFAULT_STORE_URL",
        "GENESIS_HASH",
        "PII_KINDS",
        "ApiKey",
        "AuditEntry",
        "AuditLog",
        "AuditQuery",
        "ChainReport",
        "ConflictError",
        "DecidedTurn",
        "EntryKind",
        "IssuedKey",
        "ItemStatus",
        "KeyStore",
        "LabelledExample",
        "NewReport",
        "NewReview",
        "NotFoundError",
        "OversightConfig",
        "OversightStore",
        "RedactionConfig",
        "Redactor",
        "Report",
        "ReportKind",
        "ReviewDecision",
        "ReviewItem",
        "ReviewOutcome",
        "ReviewQueue",
        "ReviewReason",
        "Scope",
        "StatsBucket",
        "User",
        "UserStore",
        "canonical_json",
        "entry_hash",
        "open_store",
        "verify_entries",
    ],
    "bastion.guard": [
        "CascadeCombiner",
        "CheckRequest",
        "CombinerConfig",
        "Guard",
        "GuardConfig",
        "Layer",
        "LayerConfig",
        "LayerConfigModel",
        "LayerDeps",
        "LayerPlugin",
        "Pipeline",
        "Requirement",
        "Stage",
        "build_layer_registry",
        "layer_plugin",
        "load_config",
    ],
    "bastion.policy": [
        "CategorySpec",
        "ContextSpec",
        "Policy",
        "ReviewMode",
        "default_policy_text",
        "load_policy",
        "parse_policy",
    ],
}


@pytest.mark.parametrize("module_name", sorted(PUBLIC))
def test_all_is_pinned_and_importable(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert sorted(module.__all__) == sorted(PUBLIC[module_name])
    for name in module.__all__:
        assert getattr(module, name) is not None


def test_unknown_attribute_raises() -> None:
    with pytest.raises(AttributeError):
        bastion.nope  # type: ignore[attr-defined]  # noqa: B018
