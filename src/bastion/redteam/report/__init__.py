"""Red-team reports: ASR with Wilson intervals, run diffs, JSON / Markdown / HTML."""

from bastion.redteam.report.render import (
    ReportFiles,
    html_report,
    markdown_report,
    report_data,
    write_report,
)
from bastion.redteam.report.stats import Diff, Rate, Summary, diff_runs, summarize, wilson

__all__ = [
    "Diff",
    "Rate",
    "ReportFiles",
    "Summary",
    "diff_runs",
    "html_report",
    "markdown_report",
    "report_data",
    "summarize",
    "wilson",
    "write_report",
]
