"""The harm stage: the guard itself, under the same policy, decides what a corpus keeps.

Every row goes through :class:`~bastion.guard.Guard` (rules, the prompt classifier and the
multilingual classifier of the default guard, or the layers of ``guard_config``) in the
curation context's policy context. Plain documents and chats ending in a user turn are
checked as a turn (:meth:`~bastion.guard.Guard.check`); prompt/response pairs and chats
ending in an assistant turn are checked as a reply
(:meth:`~bastion.guard.Guard.check_response`), so the response classifier judges the reply.

The guard's action becomes the row's action through the
:class:`~bastion.curate.contexts.CurationContext`: by default ``refuse`` drops, hard
limits always drop, a harmful reply drops, a harmful prompt answered with a refusal is
kept and flagged ``refusal_example`` (that is the safety data a fine-tuning set wants), and
a suspicious prompt answered without a refusal is judged by the policy's action for the
prompt (``complied:<category>``): an answer to a request the policy refuses is harmful
training data even when the reply classifier misses it.
The verdict names the policy rule that decided: category, intent, policy context, action.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import Field

from bastion.core.verdict import Decision
from bastion.curate.document import Document, DocumentKind
from bastion.curate.stages.base import RowOutcome, StageDeps, StageOptions, stage_plugin
from bastion.curate.verdict import RowAction, StageVerdict

__all__ = ["HarmOptions", "HarmStage"]

_SEVERITY = {RowAction.KEEP: 0, RowAction.REDACT: 0, RowAction.FLAG: 1, RowAction.DROP: 2}
_MIN_PARAGRAPH = 40
_PACKAGED = Path(__file__).resolve().parents[1] / "harm_guard.yaml"
_PROMPT_LAYERS = frozenset({"prompt_classifier", "multilingual_classifier", "rules"})


class HarmOptions(StageOptions):
    """Options of the harm stage.

    Attributes:
        guard_config: a guard configuration file (``bastion check --config``); None uses
            the packaged ``harm_guard.yaml``: the default guard plus the reply classifier.
        refusal_score: a reply the response classifier calls a refusal is a
            ``refusal_example`` when a prompt layer scored the prompt at least this high.
        units: how a plain document is judged: ``paragraphs`` checks each paragraph (text
            between blank lines, short ones merged) as its own turn and keeps the worst,
            ``whole`` checks the document as one turn. The guard's classifiers were trained
            on single prompts: on planted documents (four benign paragraphs, or a harmful
            request between two), paragraphs caught 35 % of harmful rows for 3.7 % of
            benign ones dropped, the whole document 9 % for 0 % (design note 0063).
        max_paragraphs: a longer document's paragraphs are merged into this many units.
        reply_harm_min: the reply classifier's harm score that drops a reply to a prompt
            no prompt layer found suspicious (below it, such a reply is kept).
        max_chars: rows longer than this are judged on their first ``max_chars``
            characters plus their last ``max_chars`` (the guard windows long text; this
            bounds the cost of a pathological row). 0 judges whole rows.
    """

    guard_config: Path | None = None
    refusal_score: float = Field(default=0.5, ge=0.0, le=1.0)
    max_chars: int = Field(default=20_000, ge=0)
    reply_harm_min: float = Field(default=0.6, ge=0.0, le=1.0)
    units: Literal["paragraphs", "whole"] = "paragraphs"
    max_paragraphs: int = Field(default=32, ge=1, le=1024)


@stage_plugin(
    "harm",
    summary="the guard under the policy: drop per category and intent",
    options=HarmOptions,
    cheap=False,
)
class HarmStage:
    """Judges rows with the guard and maps its action through the curation context."""

    def __init__(self, options: HarmOptions, deps: StageDeps) -> None:
        from bastion.guard import Guard
        from bastion.guard.config import LayerConfig, load_config

        self.name = "harm"
        self._options = options
        self._deps = deps
        config = load_config(_resolve(options.guard_config, deps.base_dir) or _PACKAGED)
        self._guard = Guard.from_policy(deps.policy, config=config)
        rules_only = config.model_copy(update={"layers": [LayerConfig(type="rules")]})
        self._rules = Guard.from_policy(deps.policy, config=rules_only)
        self._context = deps.context.policy_context

    def run(self, docs: Sequence[Document]) -> list[RowOutcome]:
        """One verdict per row."""
        return [RowOutcome(self._judge(doc)) for doc in docs]

    def close(self) -> None:
        """Release the guard's thread pools and models."""
        self._guard.close()
        self._rules.close()

    def _judge(self, doc: Document) -> StageVerdict:
        if doc.kind is DocumentKind.TEXT and self._options.units == "paragraphs":
            return self._worst(paragraphs(doc.text, self._options.max_paragraphs))
        decision = self._decide(doc)
        if decision.error is not None:  # the guard failed closed: so does curation
            return self._verdict(decision, RowAction.DROP, "guard_error", decision.error)
        if decision.response_harmful is None:  # a turn, not a reply
            return self._mapped(decision, "harm")
        suspicious = _prompt_score(decision) >= self._options.refusal_score
        if decision.response_harmful and (suspicious or self._sure_harmful(decision)):
            return self._verdict(decision, self._deps.context.harmful_reply, "harmful_reply")
        if suspicious and decision.response_refusal and self._rules_refusal(doc):
            return self._verdict(decision, self._deps.context.refusal_example, "refusal_example")
        if suspicious:
            return self._complied(doc)
        return self._mapped(decision, "harm", harmful_reply=False)

    def _worst(self, units: list[str]) -> StageVerdict:
        """The most severe verdict over a document's paragraphs (the first on a tie)."""
        worst: StageVerdict | None = None
        for unit in units:
            decision = self._guard.check(self._cut(unit) or " ", context=self._context)
            if decision.error is not None:
                return self._verdict(decision, RowAction.DROP, "guard_error", decision.error)
            verdict = self._mapped(decision, "harm")
            if worst is None or _SEVERITY[verdict.action] > _SEVERITY[worst.action]:
                worst = verdict
            if worst.action is RowAction.DROP:
                break
        if worst is None:  # a blank document: judged as one blank turn
            return self._mapped(self._guard.check(" ", context=self._context), "harm")
        return worst

    def _mapped(
        self, decision: Decision, prefix: str, *, harmful_reply: bool = True
    ) -> StageVerdict:
        if not harmful_reply and decision.response_harmful:
            return self._verdict(decision, RowAction.KEEP, None)
        action = self._deps.context.row_action(
            decision.action, decision.category, decision.limit.value
        )
        reason = None if action is RowAction.KEEP else f"{prefix}:{decision.category}"
        return self._verdict(decision, action, reason)

    def _sure_harmful(self, decision: Decision) -> bool:
        """The reply classifier alone drops a reply to an innocent prompt only when it is
        sure (its harmful head over-fires on code and advice near its threshold)."""
        score = max(
            (v.score for v in decision.verdicts if v.layer == "response_classifier"), default=1.0
        )
        return score >= self._options.reply_harm_min

    def _rules_refusal(self, doc: Document) -> bool:
        """The rules confirm the refusal (the reply classifier alone calls some step-by-step
        answers refusals): a refusal phrase near the start of the reply."""
        check = self._rules.check_response(
            self._cut(doc.prompt) or " ", self._cut(doc.response), context=self._context
        )
        return bool(check.response_refusal)

    def _complied(self, doc: Document) -> StageVerdict:
        """A reply that is not a refusal, to a prompt a prompt layer found suspicious: the
        row is judged by the policy's action for the prompt (an answer to a request the
        policy refuses is harmful training data even when the reply classifier misses it)."""
        decision = self._guard.check(self._cut(doc.prompt) or " ", context=self._context)
        return self._mapped(decision, "complied")

    def _decide(self, doc: Document) -> Decision:
        cut = self._cut
        if doc.kind is DocumentKind.TEXT:
            return self._guard.check(cut(doc.text) or " ", context=self._context)
        if doc.kind is DocumentKind.PAIR:
            prompt = cut(doc.prompt) or " "
            if not doc.response:
                return self._guard.check(prompt, context=self._context)
            return self._guard.check_response(prompt, cut(doc.response), context=self._context)
        messages = [{"role": role, "content": cut(content)} for role, content in doc.messages]
        if messages[-1]["role"] == "assistant" and len(messages) > 1:
            reply = messages.pop()["content"]
            return self._guard.check_response(messages, reply, context=self._context)
        if messages[-1]["role"] != "user":
            messages.append({"role": "user", "content": doc.prompt or " "})
        return self._guard.check(messages, context=self._context)

    def _cut(self, text: str) -> str:
        limit = self._options.max_chars
        if not limit or len(text) <= 2 * limit:
            return text
        return f"{text[:limit]}\n...\n{text[-limit:]}"

    def _verdict(
        self, decision: Decision, action: RowAction, reason: str | None, evidence: str | None = None
    ) -> StageVerdict:
        intent = decision.intent.value if decision.intent else None
        rule = (
            f"policy {decision.policy}: {decision.category}/{intent} in {decision.context}"
            f" -> {decision.action.value}; curation {self._deps.context.name} -> {action.value}"
        )
        details: dict[str, object] = {
            "category": decision.category,
            "subcategory": decision.subcategory,
            "intent": intent,
            "action": decision.action.value,
            "limit": decision.limit.value,
        }
        if decision.response_harmful is not None:
            details["response_harmful"] = decision.response_harmful
            details["response_refusal"] = decision.response_refusal
        return StageVerdict(
            self.name,
            action,
            score=decision.score,
            reason=reason,
            rule=rule if reason else None,
            evidence=evidence or (decision.explanation if reason else None),
            details=details,
        )


def paragraphs(text: str, limit: int) -> list[str]:
    """``text`` split at blank lines; paragraphs under 40 characters join the next one,
    and past ``limit`` paragraphs the rest are merged into the last unit."""
    units: list[str] = []
    pending = ""
    for part in (p.strip() for p in text.split("\n\n")):
        if not part:
            continue
        pending = f"{pending}\n\n{part}" if pending else part
        if len(pending) >= _MIN_PARAGRAPH:
            units.append(pending)
            pending = ""
    if pending:
        units.append(pending)
    if len(units) > limit:
        units = [*units[: limit - 1], "\n\n".join(units[limit - 1 :])]
    return units


def _prompt_score(decision: Decision) -> float:
    return max((v.score for v in decision.verdicts if v.layer in _PROMPT_LAYERS), default=0.0)


def _resolve(path: Path | None, base: Path) -> Path | None:
    if path is None or path.is_absolute():
        return path
    return base / path
