"""``bastion train reference-judge``: fit the independent red-team judge (``train`` extra).

Registered on ``train_app`` in :mod:`bastion.cli.train`.
"""

from __future__ import annotations

from bastion.cli._common import DEFAULT_SHARED_DATA, ArtifactOut, SharedData, clean_errors

__all__ = ["reference_judge"]


@clean_errors
def reference_judge(
    out: ArtifactOut = None,
    shared_data: SharedData = DEFAULT_SHARED_DATA,
) -> None:
    """Train the reference judge on GPTFuzz's labelled replies (train split; design note
    0044); writes metadata.json, weights.npz, vocabulary.json and MODEL_CARD.md."""
    import typer

    from bastion.redteam.reference_judge import file_sha256, packaged_reference_dir
    from bastion.training.reference_judge import ReferenceJudgeSettings, train_reference_judge

    settings = ReferenceJudgeSettings(shared_data=shared_data, out=out or packaged_reference_dir())
    result = train_reference_judge(settings)
    dev, chosen = result.metadata["metrics"]["dev"], result.metadata["chosen"]
    typer.echo(
        f"wrote {result.out} (C {chosen['C']:g}, {chosen['class_weight']}, threshold "
        f"{chosen['threshold']:.2f}; GPTFuzz dev: F1 {dev['f1']:.3f}, kappa {dev['kappa']:.3f}); "
        f"metadata.json sha256 {file_sha256(result.out / 'metadata.json')}"
    )
