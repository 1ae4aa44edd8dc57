"""Explicit intent cues: phrasings that say what a turn wants done, in five languages.

Only unambiguous wording counts; everything else is left to the learned intent head.
Order matters: evasion wording ("without getting caught") is facilitation whatever else
the turn says; a person in distress or a victim is ``seek_help``; a request for fiction is
``depict`` unless it also asks for working detail (step by step, exact quantities), which
makes the fiction a wrapper and the intent ``facilitate``.
"""

from __future__ import annotations

import re

from bastion.core.types import Intent

__all__ = ["intent_cue"]

_F = re.IGNORECASE

_EVASION = re.compile(
    r"without (?:getting|being) (?:caught|detected|noticed|traced)|without anyone "
    r"(?:knowing|noticing|finding out)|without leaving (?:a |any )?(?:trace|evidence)"
    r"|get away with (?:it|murder|this)|\bundetect(?:ed|able)\b|cover (?:my|our) tracks"
    r"|sans (?:me faire|se faire|être) (?:prendre|attraper|repérer)"
    r"|ohne erwischt zu werden|sin que (?:me|nadie) (?:pillen|descubra|atrapen)"
    r"|senza (?:farmi|essere) (?:beccare|scoprire|scoperto)",
    _F,
)

_SEEK_HELP = re.compile(
    r"\bi (?:really )?(?:want|wanna|am going|'m going|plan|need|am about) to "
    r"(?:end (?:my life|it all)|kill myself|die\b|hurt myself|cut myself|disappear forever)"
    r"|\bi (?:don'?t|do not) want to (?:live|be alive|exist|wake up)"
    r"|\bi'?m (?:thinking|thinking about|considering) (?:of )?"
    r"(?:suicide|killing myself|ending (?:it|my life))"
    r"|\bi (?:feel|am|'m) suicidal|\bno reason to (?:live|go on)"
    r"|\bi (?:was|got|have been|am being|'m being) (?:raped|abused|assaulted|molested|stalked"
    r"|harassed|bullied|blackmailed|scammed|hacked|doxx?ed|groomed|threatened|trafficked)"
    r"|\b(?:someone|somebody|my (?:ex|partner|husband|wife|boss|neighbou?r|dad|mom|father|mother|"
    r"stepdad|uncle|coach|teacher)) (?:is |keeps )?(?:hurting|abusing|hitting|beating|threatening|"
    r"stalking|blackmailing|touching) (?:me|my)"
    r"|je (?:veux|vais) (?:mourir|en finir|me suicider|me tuer)|je ne veux plus vivre"
    r"|ich (?:will|möchte) (?:nicht mehr leben|sterben|mich umbringen)|ich will nicht mehr"
    r"|quiero (?:morir|suicidarme|matarme|acabar con mi vida)|no quiero vivir"
    r"|voglio (?:morire|uccidermi|farla finita|suicidarmi)|non voglio più vivere",
    _F,
)

_DEPICT = re.compile(
    r"^\W*(?:please |can you |could you |i'?d like you to )?(?:write|compose|draft|create|tell)"
    r"(?: me| us)? (?:a |an |the |my )?(?:short |dark |gritty |sad |new )?(?:story|scene|poem"
    r"|novel|chapter|screenplay|script|song|tale|fanfic|fan fiction|dialogue|monologue|haiku)"
    r"|\b(?:in|for) my (?:novel|story|book|screenplay|script|game|fanfic|comic)\b"
    r"|^\W*(?:écris|écrivez|rédige) (?:une?|le|la) (?:histoire|scène|nouvelle|poème|chanson)"
    r"|^\W*schreib(?:e|en sie)? (?:eine?|mir eine?) (?:geschichte|szene|gedicht|kurzgeschichte)"
    r"|^\W*escribe (?:una?|me una?) (?:historia|escena|poema|cuento|canción)"
    r"|^\W*scrivi (?:una?|mi una?) (?:storia|scena|poesia|racconto|canzone)",
    _F,
)

_OPERATIONAL = re.compile(
    r"step[- ]by[- ]step|exact (?:quantities|amounts|measurements|steps|instructions|recipe|dose)"
    r"|detailed (?:instructions|steps|recipe|guide)|\brecipe\b|ingredients"
    r"|precise (?:steps|amounts)"
    r"|list (?:the|all) (?:steps|materials|chemicals)|working (?:code|exploit|instructions)"
    r"|étape par étape|schritt für schritt|paso a paso|passo dopo passo",
    _F,
)


def intent_cue(text: str) -> Intent | None:
    """The intent ``text`` states outright, or None when its wording does not say."""
    if _EVASION.search(text):
        return Intent.FACILITATE
    if _SEEK_HELP.search(text):
        return Intent.SEEK_HELP
    if _DEPICT.search(text):
        return Intent.FACILITATE if _OPERATIONAL.search(text) else Intent.DEPICT
    return None
