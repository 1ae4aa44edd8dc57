"""Published results: the tables in ``docs/*.md`` are rendered from JSON under
``docs/results/``, never typed (``bastion docs render`` / ``bastion docs check``)."""

from bastion.published.docs import DocTable, check_docs, render_docs, render_text
from bastion.published.tables import TABLE_KINDS, render_table

__all__ = ["TABLE_KINDS", "DocTable", "check_docs", "render_docs", "render_table", "render_text"]
