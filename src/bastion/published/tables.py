"""Markdown tables rendered from results JSON, one renderer per kind.

Kinds (each takes the parsed JSON of the files its block names, in order):

- ``redteam_runs``: one row per published red-team run (``bastion docs add-run``): target,
  goals split, judge and whether it is independent of the target, ASR, benign pass rate;
- ``redteam_families``: ASR per attack family of one run;
- ``redteam_change``: per family, ASR of two runs (baseline first) and the difference with
  its Newcombe 95 % interval;
- ``harden_rounds``: the dev rounds of ``bastion harden`` and its one test measurement;
- ``judge_agreement``: judges against human labels (precision, recall, F1, kappa);
- ``eval_metrics``: every suite's headline metrics of a ``bastion eval`` report;
- ``eval_rows``: the per-group rows of one table of one suite (``suite=``, ``table=``), a
  column per report, or pivoted (``pivot=yes``: rows ``GROUP STAT``);
- ``eval_side_by_side``: every suite's headline metrics, a column per report (or per
  column of a counts table, ``table=``);
- ``eval_compare``: ``bastion eval compare``'s compare.json, ``B - A`` with Newcombe;
- ``counts_table`` / ``counts_compare``: a table of counts recovered from runs whose
  reports were not committed (:mod:`bastion.published.counts_tables`), the second with
  ``B - A`` of its two columns.

Options are a block's ``key=value`` words (:mod:`bastion.published.docs`); ``labels=`` (a
comma list) renames the columns of the eval kinds. Proportions print as ``value [low, high]
(k/n)`` (red-team kinds) or ``value [low, high] (n=N)`` (eval kinds, as eval reports print
them) with Wilson 95 % intervals computed from the counts (:mod:`bastion.core.stats`), so
every interval in the docs has one convention.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from bastion.core.errors import InputError
from bastion.core.stats import newcombe_difference, wilson
from bastion.published import counts_tables, eval_tables
from bastion.published._markdown import Options, md_table

__all__ = ["TABLE_KINDS", "Renderer", "proportion_cell", "render_table"]

Renderer = Callable[[Sequence[Any], Options], list[str]]
"""Renders a block: the parsed JSON of its files, in order, and its options."""


def proportion_cell(successes: int, trials: int) -> str:
    """``41.2 % [35.1, 47.6] (58/141)``; ``n/a (0/0)`` without trials."""
    if trials <= 0:
        return "n/a (0/0)"
    low, high = wilson(successes, trials)
    return f"{successes / trials:.1%} [{low:.1%}, {high:.1%}] ({successes}/{trials})"


def _rate_cell(rate: Mapping[str, Any] | None) -> str:
    if not rate:
        return "-"
    return proportion_cell(int(rate["successes"]), int(rate["trials"]))


_table = md_table


def _judge(run: Mapping[str, Any]) -> str:
    judge = run.get("judge") or {}
    name = str(judge.get("name", "?"))
    return f"{name} (independent)" if judge.get("independent") else f"{name} (**self-judged**)"


def _redteam_runs(runs: Sequence[Any]) -> list[str]:
    rows = [
        [
            run["label"],
            f"`{run['target']}`",
            run.get("split", "all"),
            _judge(run),
            _rate_cell(run["report"]["overall"]),
            _rate_cell((run.get("benign") or {}).get("benign_pass")),
        ]
        for run in runs
    ]
    header = ["run", "target", "goals", "judge", "ASR", "benign answered"]
    return _table(header, rows)


def _redteam_families(runs: Sequence[Any]) -> list[str]:
    (run,) = runs
    by_family = run["report"]["by_family"]
    return _table(["family", "ASR"], [[k, _rate_cell(v)] for k, v in sorted(by_family.items())])


def _difference_cell(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    k1, n1, k2, n2 = (
        int(x) for x in (old["successes"], old["trials"], new["successes"], new["trials"])
    )
    if not (n1 and n2):
        return "n/a"
    diff, low, high = newcombe_difference(k1, n1, k2, n2)
    return f"{diff:+.1%} [{low:+.1%}, {high:+.1%}]"


def _redteam_change(runs: Sequence[Any]) -> list[str]:
    old, new = runs
    before, after = old["report"]["by_family"], new["report"]["by_family"]
    rows = [
        [
            family,
            _rate_cell(before[family]),
            _rate_cell(after[family]),
            _difference_cell(before[family], after[family]),
        ]
        for family in sorted(before.keys() & after.keys())
    ]
    rows.append(
        [
            "**all**",
            _rate_cell(old["report"]["overall"]),
            _rate_cell(new["report"]["overall"]),
            _difference_cell(old["report"]["overall"], new["report"]["overall"]),
        ]
    )
    header = ["family", old["label"], new["label"], "difference [95 % CI, Newcombe]"]
    return _table(header, rows)


def _harden_rounds(reports: Sequence[Any]) -> list[str]:
    (report,) = reports
    rounds = [*report["rounds"], *([report["test"]] if report.get("test") else [])]
    rows = [
        [
            r["round"],
            r.get("side", "dev"),
            _rate_cell(r["asr"]),
            _rate_cell(r["benign_pass"]),
            _rate_cell(r["lookalike_pass"]),
            f"{r.get('added_unsafe', 0)} / {r.get('added_safe', 0)}",
        ]
        for r in rounds
    ]
    header = ["round", "split", "ASR", "benign pass", "look-alike pass", "added unsafe / safe"]
    lines = _table(header, rows)
    return [*lines, "", f"Kept round {report['chosen_round']} ({report['stop_reason']})."]


def _judge_agreement(reports: Sequence[Any]) -> list[str]:
    rows = []
    for report in reports:
        for score in report["scores"]:
            rows.append(
                [
                    score["judge"],
                    score["task"],
                    score.get("n", "-"),
                    _fmt(score.get("precision")),
                    _fmt(score.get("recall")),
                    _fmt(score.get("f1")),
                    _fmt(score.get("kappa")),
                ]
            )
    return _table(["judge", "labelled set", "n", "precision", "recall", "F1", "kappa"], rows)


def _fmt(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, int | float) else "-"


def _plain(render: Callable[[Sequence[Any]], list[str]]) -> Renderer:
    """A renderer of a kind that takes no options."""
    return lambda sources, _options: render(sources)


TABLE_KINDS: Final[Mapping[str, Renderer]] = {
    "redteam_runs": _plain(_redteam_runs),
    "redteam_families": _plain(_redteam_families),
    "redteam_change": _plain(_redteam_change),
    "harden_rounds": _plain(_harden_rounds),
    "judge_agreement": _plain(_judge_agreement),
    "eval_metrics": eval_tables.eval_metrics,
    "eval_rows": eval_tables.eval_rows,
    "eval_side_by_side": eval_tables.eval_side_by_side,
    "eval_compare": eval_tables.eval_compare,
    "counts_table": counts_tables.counts_table,
    "counts_compare": counts_tables.counts_compare,
}

_OPTIONS: Final[Mapping[str, frozenset[str]]] = {
    "eval_rows": frozenset({"suite", "table", "labels", "pivot", "group"}),
    "eval_side_by_side": frozenset({"table", "labels"}),
    "eval_compare": frozenset({"labels"}),
    "counts_table": frozenset({"table"}),
    "counts_compare": frozenset({"table"}),
}
"""The options each kind reads; a kind not named here takes none."""


def render_table(kind: str, sources: Sequence[Any], options: Options | None = None) -> str:
    """The Markdown of one results block (ends with a newline).

    Raises:
        InputError: an unknown kind or option, or JSON without the fields the kind reads.
    """
    renderer = TABLE_KINDS.get(kind)
    if renderer is None:
        raise InputError(f"unknown results table kind {kind!r}; known: {', '.join(TABLE_KINDS)}")
    options = options or {}
    unknown = sorted(set(options) - _OPTIONS.get(kind, frozenset()))
    if unknown:
        raise InputError(f"results table {kind!r} takes no option {', '.join(unknown)}")
    try:
        lines = renderer(sources, options)
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"results table {kind!r}: the JSON lacks {exc}") from None
    return "\n".join(lines) + "\n"
