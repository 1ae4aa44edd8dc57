"""Layer 1: curate training data with the same policy the guard enforces.

``bastion curate IN --out OUT`` streams a corpus (JSON Lines, Parquet, or a folder of
shards; plain text, chat messages, or prompt/response pairs) through registered
:class:`~bastion.curate.stages.base.Stage` plugins and writes the kept rows, the removed
rows with the stage, score and policy rule that removed them, the rows that could not be
read, and a report (HTML with plots, JSON and Markdown).

Stages are small plugins of two kinds: *row* stages look at one row at a time (quality,
language, personal data, toxicity, prompt injection, harm, decontamination) and can run
on any number of workers or on Ray; *corpus* stages (duplicates) see the rows in corpus
order in one place, so every engine gives the same output row for row.
"""

from bastion.curate.document import Document, DocumentKind, parse_document
from bastion.curate.verdict import CuratedRow, RowAction, StageVerdict

__all__ = [
    "CuratedRow",
    "Document",
    "DocumentKind",
    "RowAction",
    "StageVerdict",
    "parse_document",
]
