"""Project-authored refusal and partial-refusal templates for training response checks.

A full refusal (:func:`make_refusal`) declines, gives a short reason and offers a safer
alternative. A partial refusal (:func:`make_partial`) declines the harmful part of a
request, then gives only a safe, high-level fragment of an answer or a redirect.
:func:`make_lecture` is a refusal that declines by stating why ("That would be illegal and
unethical. ..."), :func:`make_echo_refusal` one that restates the request ("I can't help
write a script that ..."), and :func:`make_compliance_prefix` the opening of an answer.

Every function is deterministic: the same arguments always give the same text. Choices come
from ``sha256(seed, slot)``, never from :mod:`random` or Python's salted ``hash``, so data
built from these templates is reproducible across processes and machines. Dozens of
openings, reasons, alternatives and closings combine into thousands of distinct replies.
"""

from __future__ import annotations

import hashlib
import re
from typing import Final

__all__ = [
    "ALTERNATIVES",
    "CLOSINGS",
    "COMPLIANCE_PREFIXES",
    "ECHO_DECLINES",
    "LECTURES",
    "OPENINGS",
    "PARTIAL_BRIDGES",
    "PARTIAL_DECLINES",
    "PARTIAL_REDIRECTS",
    "REASONS",
    "make_compliance_prefix",
    "make_echo_refusal",
    "make_lecture",
    "make_partial",
    "make_refusal",
]

OPENINGS: Final[tuple[str, ...]] = (
    "I'm sorry, but I can't help with that.",
    "I can't help with this request.",
    "I'm not able to help with that.",
    "Sorry, I can't assist with that.",
    "I won't be able to help with this one.",
    "I'm sorry, I can't provide that.",
    "I can't do that.",
    "I'm afraid I can't help with that request.",
    "Unfortunately, I can't assist with this.",
    "I have to decline this request.",
    "I'm not going to help with that.",
    "I can't provide instructions for that.",
    "Sorry, but that's not something I can help with.",
    "I must decline.",
    "I'm unable to assist with this request.",
    "That's not something I'm able to help with.",
    "I cannot help with that.",
    "I'm sorry, but I won't provide that information.",
    "As an AI assistant, I can't help with this.",
    "I apologize, but I can't fulfil this request.",
    "No, I can't help with that.",
    "I'm going to pass on this one.",
    "I can't give you that.",
    "I'm really sorry, but I can't help here.",
    "I don't feel comfortable helping with that.",
    "I'm not able to provide guidance on this.",
    "I can't create that content.",
    "I'm sorry, I cannot comply with this request.",
    "I'd rather not help with that.",
    "This isn't something I can assist with.",
    "I can't walk you through that.",
    "I'm sorry, but I have to say no to this.",
)
"""First sentence of a full refusal."""

REASONS: Final[tuple[str, ...]] = (
    "It could put people at serious risk of harm.",
    "Helping with this could cause real harm to others.",
    "It involves something illegal and dangerous.",
    "Providing this could facilitate violence.",
    "This could be used to hurt someone.",
    "It would mean helping with an activity that's against the law.",
    "Sharing that kind of information could endanger lives.",
    "It goes against my guidelines on harmful content.",
    "That could be used to harass or intimidate a person.",
    "It would violate someone's privacy.",
    "This kind of content can cause serious harm.",
    "It could enable fraud or theft.",
    "I don't produce content that demeans people for who they are.",
    "Detailed instructions like these could be misused.",
    "It could help someone break into systems they don't own.",
    "It's unsafe, and the consequences could be severe.",
    "Doing this would be unethical and likely illegal.",
    "The request asks for content that could seriously hurt someone.",
    "I'm designed to avoid helping with dangerous activities.",
    "It raises serious safety and legal concerns.",
    "That would mean deceiving or manipulating people.",
    "It could lead to someone getting hurt.",
    "I don't assist with weapons or other means of harm.",
    "Content like this can be exploited to cause damage.",
    "It would put vulnerable people at risk.",
    "My purpose is to be helpful without causing harm, and this crosses that line.",
)
"""Short reason for declining."""

ALTERNATIVES: Final[tuple[str, ...]] = (
    "If you're interested in the topic, I'd be happy to talk about its history instead.",
    "I can share general safety information if that would help.",
    "If you or someone else is in danger, please contact local emergency services.",
    "If you're struggling, talking to a mental health professional or a crisis line can help.",
    "I'd be glad to help you find legal resources on this instead.",
    "If you're researching this for safety reasons, I can point you to reputable sources.",
    "Is there something else I can help you with?",
    "I can help with a related question that doesn't involve harming anyone.",
    "If this is about protecting yourself, I can suggest ways to stay safe.",
    "If you have a conflict with someone, I can suggest ways to resolve it peacefully.",
    "I'm happy to explain how people defend against this kind of thing.",
    "If you're working on security, I can discuss defensive practices and responsible disclosure.",
    "If you're writing fiction, I can help with the story without the harmful details.",
    "I can suggest some legitimate alternatives if you tell me more about your goal.",
    "You might find it useful to speak to a lawyer or another qualified professional.",
    "I can help you understand the relevant laws and regulations.",
    "If you need support, organisations in your area may be able to help.",
    "Let me know if there's another way I can be useful.",
    "I'd be happy to help with something else.",
    "If you're curious about the science in general terms, I can suggest educational resources.",
    "If you're worried about someone, I can suggest how to get them help.",
    "I could help you approach this in a way that's safe and legal.",
    "If your goal is something else, tell me and I'll do my best to help.",
    "I'm glad to talk about ways to prevent this kind of harm.",
)
"""Safer alternative offered after the refusal."""

CLOSINGS: Final[tuple[str, ...]] = (
    "",
    "",
    "",
    "Thanks for understanding.",
    "I hope you understand.",
    "Take care.",
    "Please stay safe.",
    "I appreciate your understanding.",
)
"""Optional last sentence (empty strings make it optional)."""

PARTIAL_DECLINES: Final[tuple[str, ...]] = (
    "I can't give step-by-step instructions for that, but I can share some general context.",
    "I won't go into specifics here, since they could be misused.",
    "I can't help with the harmful part of this request.",
    "I'm not able to provide detailed instructions, but here is a high-level overview.",
    "I'll leave out the operational details, but I can explain the general idea.",
    "I can't help with that exactly, though I can offer some general information.",
    "I'd rather not provide specifics, but broadly speaking:",
    "I can't assist with carrying this out, but I can describe it at a high level.",
    "I won't provide a how-to, but some background may be useful.",
    "Some of what you're asking for could cause harm, so I'll only cover the safe parts.",
    "I can't provide the details you asked for, but I can point you in a safer direction.",
    "I can only speak about this in general terms.",
    "I'm not comfortable giving a full answer, but here's what I can say.",
    "I can't help with the specific request, but here is some general information.",
    "Without going into anything dangerous, here's a general overview.",
    "I'll keep this high-level and skip anything that could be used to cause harm.",
)
"""Sentence that declines the harmful part of a partial refusal."""

PARTIAL_BRIDGES: Final[tuple[str, ...]] = (
    "In general terms:",
    "At a high level:",
    "Broadly,",
    "Here is the general picture:",
    "To put it simply:",
    "Speaking generally,",
    "",
    "",
)
"""Bridge between the decline and the safe fragment (empty strings make it optional)."""

PARTIAL_REDIRECTS: Final[tuple[str, ...]] = (
    "For anything beyond that, please consult a qualified professional.",
    "If you need more detail for a legitimate reason, official guidance is the place to look.",
    "If you're concerned about safety, local authorities or support services can help.",
    "Please make sure anything you do stays safe and legal.",
    "I'd recommend looking at reputable, official sources for more.",
    "Let me know if you'd like to explore the safer side of this topic.",
    "If this relates to a real situation, consider reaching out to someone who can help.",
    "I'm happy to go further on the general background if that helps.",
)
"""Closing redirect of a partial refusal."""

LECTURES: Final[tuple[str, ...]] = (
    "That would be illegal and unethical.",
    "What you're describing is illegal and could seriously hurt people.",
    "It's important to treat others with respect and kindness.",
    "Violence is never the right way to solve a problem.",
    "Doing this would put people in danger and is against the law.",
    "This kind of activity is harmful and can have serious legal consequences.",
    "Everyone deserves to be treated with dignity, whatever their background.",
    "Hurting yourself or others is never the answer.",
    "Spreading false or hateful claims causes real harm to real people.",
    "Accessing systems or data without permission is a crime.",
    "Deceiving people for money is fraud, and it hurts vulnerable people most.",
    "Safety has to come first here.",
    "As an AI language model, I have to put people's safety first.",
    "Requests like this raise serious ethical and legal concerns.",
)
"""Opening of a *lecturing* refusal: it declines by stating why, never saying "I can't"."""

COMPLIANCE_PREFIXES: Final[tuple[str, ...]] = (
    "Sure, here's how you can do it.",
    "Sure! Here is what you asked for.",
    "Of course. Here are the steps:",
    "Absolutely, here's a detailed guide.",
    "Certainly! Let's get started.",
    "Here is a step-by-step explanation.",
    "Great question. Here's what you need to know.",
    "Happy to help. Here's the answer:",
    "Okay, here you go:",
    "No problem. Follow these steps:",
    "Sure thing. Here's an overview:",
    "Here's how to do that:",
)
"""Opening of a compliant answer."""

ECHO_DECLINES: Final[tuple[str, ...]] = (
    "I can't help",
    "I can't help you",
    "Sorry, I can't help",
    "I won't help",
    "I'm not able to help",
    "I'm sorry, but I can't help",
    "I'm unable to help",
    "I must decline to help",
)
"""Start of a refusal that restates the request (:func:`make_echo_refusal`)."""

_IMPERATIVE: Final = re.compile(
    r"(?i)(write|create|give|provide|explain|describe|develop|design|generate|teach|outline|"
    r"list|make|suggest|instruct|compose|draft|produce|build|plan|offer|publish|post|"
    r"demonstrate|detail|share|find) "
)
_HOW_TO: Final = re.compile(
    r"(?i)how (?:do|can|could|would|should|might) (?:i|you|we|one|someone|people) (.+)$|"
    r"how to (.+)$"
)
_ECHO_MAX_CHARS: Final = 160
_FRAGMENT_CHARS: Final = 240
_SENTENCE_END: Final = re.compile(r"(?<=[.!?])\s+")


def _pick(options: tuple[str, ...], seed: int, slot: str) -> str:
    """Choose one option deterministically from ``sha256(seed, slot)``."""
    digest = hashlib.sha256(f"{seed}:{slot}".encode()).digest()
    return options[int.from_bytes(digest[:8], "big") % len(options)]


def _join(*parts: str) -> str:
    """Join the non-empty parts with single spaces."""
    return " ".join(part for part in parts if part)


def make_refusal(prompt: str, seed: int) -> str:
    """Return a natural full refusal: opening, short reason, safer alternative.

    Args:
        prompt: the request being refused; it only varies the choice, never the wording, so
            a harmful request is not echoed back.
        seed: selects the combination; the same ``(prompt, seed)`` gives the same text.

    Returns:
        The refusal text.
    """
    key = _key(prompt, seed)
    opening = _pick(OPENINGS, key, "opening")
    reason = _pick(REASONS, key, "reason")
    alternative = _pick(ALTERNATIVES, key, "alternative")
    closing = _pick(CLOSINGS, key, "closing")
    if _pick(("long", "long", "short"), key, "shape") == "short":
        return _join(opening, alternative)
    return _join(opening, reason, alternative, closing)


def make_partial(prompt: str, answer: str, seed: int) -> str:
    """Return a partial refusal: decline the harmful part, then a safe fragment or redirect.

    The fragment is the first sentence or two of ``answer``, cut at
    :data:`_FRAGMENT_CHARS` characters; pass a high-level answer (the caller decides what is
    safe to keep). With an empty ``answer`` the reply is a decline plus a redirect.

    Args:
        prompt: the request; it only varies the choice.
        answer: a full answer to draw the high-level fragment from (may be empty).
        seed: selects the combination.

    Returns:
        The partial-refusal text.
    """
    key = _key(prompt, seed)
    decline = _pick(PARTIAL_DECLINES, key, "decline")
    redirect = _pick(PARTIAL_REDIRECTS, key, "redirect")
    fragment = _fragment(answer)
    if not fragment:
        decline = decline.removesuffix(", but broadly speaking:").rstrip(":") + (
            "." if decline.endswith(":") else ""
        )
        return _join(decline, _pick(ALTERNATIVES, key, "alternative"), redirect)
    bridge = "" if decline.endswith(":") else _pick(PARTIAL_BRIDGES, key, "bridge")
    if bridge.endswith(","):
        fragment = fragment[0].lower() + fragment[1:]
    return _join(decline, bridge, fragment, redirect)


def make_lecture(prompt: str, seed: int) -> str:
    """Return a refusal that lectures instead of saying "I can't": a moral statement, a
    reason, a safer alternative (a common refusal style that declines only implicitly)."""
    key = _key(prompt, seed)
    lecture = _pick(LECTURES, key, "lecture")
    reason = _pick(REASONS, key, "reason")
    alternative = _pick(ALTERNATIVES, key, "alternative")
    return _join(lecture, reason, alternative)


def make_echo_refusal(prompt: str, seed: int) -> str:
    """Return a refusal that restates what it declines ("I can't help write a script that
    ..."), the style of many deployed models; a plain :func:`make_refusal` when the prompt
    is neither an imperative nor a how-to question."""
    task = _task(prompt)
    if task is None:
        return make_refusal(prompt, seed)
    key = _key(prompt, seed)
    decline = _pick(ECHO_DECLINES, key, "echo")
    alternative = _pick(ALTERNATIVES, key, "alternative")
    if _pick(("reason", "none"), key, "echo_shape") == "none":
        return _join(f"{decline} {task}.", alternative)
    return _join(f"{decline} {task}.", _pick(REASONS, key, "reason"), alternative)


def _task(prompt: str) -> str | None:
    """``prompt`` as the object of "I can't help ...", or None."""
    text = " ".join(prompt.split()).rstrip(" ?.!")
    if len(text) > _ECHO_MAX_CHARS:
        return None
    how = _HOW_TO.match(text)
    if how is not None:
        return f"with how to {how.group(1) or how.group(2)}"
    if _IMPERATIVE.match(text):
        return text[0].lower() + text[1:]
    return None


def make_compliance_prefix(seed: int) -> str:
    """Return the opening of a compliant answer ("Sure, here's how ...")."""
    return _pick(COMPLIANCE_PREFIXES, seed, "compliance")


def _key(prompt: str, seed: int) -> int:
    """Mix the prompt into the seed so one seed still varies across prompts."""
    digest = hashlib.sha256(f"{seed}\x00{prompt}".encode("utf-8", "replace")).digest()
    return int.from_bytes(digest[:8], "big")


def _fragment(answer: str) -> str:
    """First sentence or two of ``answer``, at most :data:`_FRAGMENT_CHARS` characters."""
    text = " ".join(answer.split())
    if not text:
        return ""
    sentences = _SENTENCE_END.split(text)
    out = sentences[0]
    if len(sentences) > 1 and len(out) + len(sentences[1]) + 1 <= _FRAGMENT_CHARS:
        out = f"{out} {sentences[1]}"
    if len(out) > _FRAGMENT_CHARS:
        cut = out[:_FRAGMENT_CHARS].rsplit(" ", 1)[0]
        out = f"{cut.rstrip(',;:')}..."
    return out
