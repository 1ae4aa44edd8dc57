"""Detectors of personal data for the pii stage: a regex finds candidates, a check confirms.

Every kind is found in two steps, so the patterns can stay loose where the check is strong:

* ``email``: local part and domain with a letter TLD (no check needed).
* ``iban``: country code, two check digits and 4-character groups; :mod:`stdnum.iban` checks
  the mod-97 digits and the country's length and format. Upper case only.
* ``card``: 13-19 digits, contiguous or grouped 4-4-4-4(-3) / 4-6-5, starting with an issuer
  digit 2-6, standing alone (not inside a hex id, a uuid or a decimal), Luhn-valid.
* ``national_id``: US SSN (``ddd-dd-dddd``, area/group/serial rules of
  :mod:`stdnum.us.ssn`), UK NINO (prefix letters and suffix rules, it has no checksum),
  French NIR, Spanish DNI/NIE, Italian codice fiscale (checksums of python-stdnum), German
  Steuer-IdNr (checksum, and only after a keyword like "Steuer-ID": 11 bare digits pass its
  checksum too often).
* ``ip``: IPv4 and IPv6 checked by :mod:`ipaddress`; only globally routable addresses by
  default (``127.0.0.1``, ``10.0.0.1``, ``::1`` and documentation ranges are not personal).
* ``phone``: any run of 7+ digits is a candidate; :class:`phonenumbers.PhoneNumberMatcher`
  (leniency VALID) confirms it in a small window for each default region. A bare digit run
  needs a phone word before it ("call", "tel", "mobile"...), and a number after an id word
  ("order", "invoice", "ISBN", "#"...) is left alone.
* ``address``: English street lines only: ``<number> <Capitalised Name> Street|St|Avenue...``.

Names are not detected: no offline named-entity model ships as a pip wheel here.
Kinds are searched in :data:`PII_KINDS` order, each in the text the ones before it left
(``[CARD]`` has no digits left for the phone matcher), until a pass finds nothing: so
redacting the output again changes nothing.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Literal

import phonenumbers
from stdnum import iban, isbn, luhn
from stdnum.de import idnr
from stdnum.es import dni, nie
from stdnum.fr import nir
from stdnum.it import codicefiscale
from stdnum.us import ssn

__all__ = ["MARKERS", "PII_KINDS", "PiiDetector", "PiiKind"]

PiiKind = Literal["email", "iban", "card", "national_id", "ip", "phone", "address"]
PII_KINDS: tuple[PiiKind, ...] = ("email", "iban", "card", "national_id", "ip", "address", "phone")
"""Kinds in search order: the strictly checked ones first, phones last (a card or an IBAN
is also a run of digits)."""
MARKERS: dict[str, str] = {kind: f"[{kind.upper()}]" for kind in PII_KINDS}

_EMAIL = re.compile(
    r"(?<![\w.+-])[\w.+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}"
    r"\.[A-Za-z]{2,24}(?![\w-])"
)
_IBAN = re.compile(
    r"(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?(?![A-Za-z0-9])"
)
_CARD = re.compile(
    r"(?<![\w.,+-])(?:[2-6][0-9]{12,18}"
    r"|[2-6][0-9]{3}(?P<s>[ -])[0-9]{4}(?P=s)[0-9]{4}(?P=s)[0-9]{1,4}(?:(?P=s)[0-9]{3})?"
    r"|3[0-9]{3}(?P<a>[ -])[0-9]{6}(?P=a)[0-9]{4,5})(?![\w-]|[.,][0-9])"
)
_SSN = re.compile(r"(?<![\w-])[0-9]{3}-[0-9]{2}-[0-9]{4}(?![\w-])")
_NINO = re.compile(
    r"(?<![A-Za-z0-9])(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
    r"(?: ?[0-9]{2}){3} ?[A-D](?![A-Za-z0-9])"
)
_NIR = re.compile(
    r"(?<![\w-])[12] ?[0-9]{2} ?(?:0[1-9]|1[0-2]|[2-9][0-9]) ?(?:[0-9]{2}|2[AB])"
    r" ?[0-9]{3} ?[0-9]{3} ?[0-9]{2}(?![\w-])"
)
_DNI = re.compile(r"(?<![\w-])(?:[XYZ]-?[0-9]{7}|[0-9]{8})-?[A-Z](?![\w-])")
_CODICE_FISCALE = re.compile(
    r"(?<![\w-])[A-Z]{6}[0-9LMNP-V]{2}[A-EHLMPR-T][0-9LMNP-V]{2}[A-Z][0-9LMNP-V]{3}[A-Z](?![\w-])"
)
_IDNR = re.compile(r"(?<![\w-])[0-9]{2} ?[0-9]{3} ?[0-9]{3} ?[0-9]{3}(?![\w-])")
_IDNR_WORD = re.compile(
    r"(?i)(?:steuer[- ]?id|identifikationsnummer|\bidnr|\btax[- ]id|\btin)\b[^\n]{0,30}$"
)
_IDNR_HINT = re.compile(r"(?i)steuer|idnr|identifikation|\btax|\btin\b")
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_IPV4 = re.compile(rf"(?<![\w.])(?:{_OCTET}\.){{3}}{_OCTET}(?!\w|\.[0-9])")
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:.])")
_VERSION_WORD = re.compile(r"(?i)(?:\bv|\bver\.?|\bversion|\brelease|\bbuild)[ :]*$")
_PHONE_CANDIDATE = re.compile(r"[0-9](?:[ ().\-/]{0,3}[0-9]){6,19}")
_DECIMAL = re.compile(r"\(?(?:0|[1-9][0-9]*)[.,][0-9]+")  # not "030.129898"
_IN_NUMBER_BEFORE = re.compile(r"[0-9][.,]$")  # "0.995773256": a fraction's digits
_IN_NUMBER_AFTER = re.compile(r"[.,][0-9]")
_PHONE_WORD = re.compile(
    r"(?i)\b(?:phone|tel|telephone|mobile|cell|call|ring|text|fax|whatsapp|sms|contact|dial|"
    r"reach|hotline|number is|appel\w*|t[ée]l[ée]phone|portable|joindre|tel[ée]fono|m[óo]vil|"
    r"llam\w*|cellulare|chiam\w*|handy|telefon\w*|anruf\w*|rufen|erreichbar|num[ée]ro|"
    r"número|nummer)\b"
)
_ID_WORD = re.compile(
    r"(?i)(?:\b(?:order|invoice|ref|reference|tracking|serial|ticket|case|account|acct|isbn|"
    r"issn|doi|sku|part|model|id|transaction|confirmation|booking|patent|bestell|commande|"
    r"pedido|ordine)\b[\w .:#-]{0,14}|#\s?)$"
)
_STREET_SUFFIX = (
    r"Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Drive|Dr|Boulevard|Blvd|Court|Ct|Terrace|Parkway|"
    r"Pkwy|Highway|Hwy|Place|Way|Square|Sq"
)
_ADDRESS = re.compile(
    rf"(?<![\w.,-])[0-9]{{1,5}}[A-Za-z]?,?[ \t]{{1,2}}"
    rf"(?:(?:[NSEW]\.?|North|South|East|West)[ \t])?"
    rf"(?:(?:[A-Z][a-z]+(?:'s)?|[0-9]{{1,3}}(?:st|nd|rd|th))\.?[ \t]{{1,2}}){{1,3}}"
    rf"(?:{_STREET_SUFFIX})\b\.?(?:[ \t](?:NE|NW|SE|SW)\b)?"
)
_NOT_STREET_NAMES = frozenset(  # "4 Wheel Drive", "2064 Supreme Court", "2021 Test Drive"
    {"Wheel", "Hard", "Flash", "Disk", "Disc", "Thumb", "Solid", "Test", "Star", "Step", "Ways"}
    | {"Supreme", "High", "District", "Federal", "Circuit", "Appeals", "Appeal", "Crown"}
    | {"Magistrates", "Claims", "Family", "Food", "Tax", "Silk", "Milky", "One"}
)
_WINDOW = 12  # characters of context the phone matcher sees around a candidate
_MAX_ROUNDS = 4  # redaction passes at most (the second one finds nothing in practice)


class PiiDetector:
    """Finds and redacts personal data in text; built once per stage instance.

    Args:
        kinds: the kinds to look for (searched in :data:`PII_KINDS` order, whatever this one).
        regions: default regions for numbers written without a ``+`` country code.
        private_ips: also redact loopback, private and reserved IP addresses.
        max_phone_candidates: per text, candidates checked with phonenumbers; later ones
            are redacted on the regex alone when they have 9+ digits (a pathological row
            must not cost minutes, and a missed phone is the worse error).

    Example:
        >>> PiiDetector().redact("mail ann@example.org or call +44 20 7946 0958")
        ('mail [EMAIL] or call [PHONE]', Counter({'email': 1, 'phone': 1}))
    """

    def __init__(
        self,
        kinds: Iterable[str] = PII_KINDS,
        regions: Iterable[str] = ("US", "GB", "DE", "FR", "ES", "IT"),
        *,
        private_ips: bool = False,
        max_phone_candidates: int = 256,
    ) -> None:
        wanted = set(kinds)
        finders: dict[PiiKind, Callable[[str], Iterator[tuple[int, int]]]] = {
            "email": _emails,
            "iban": _ibans,
            "card": _cards,
            "national_id": _national_ids,
            "ip": self._ips,
            "phone": self._phones,
            "address": _addresses,
        }
        self._finders = [(kind, finders[kind]) for kind in PII_KINDS if kind in wanted]
        self._regions = tuple(regions)
        self._private_ips = private_ips
        self._max_phone_candidates = max_phone_candidates
        self._leniency = phonenumbers.Leniency.VALID

    def redact(self, text: str) -> tuple[str, Counter[str]]:
        """``text`` with each piece of personal data replaced by its marker, and the count
        per kind.

        Kinds are replaced one after the other, each searching the text the kinds before it
        left; the whole is repeated until nothing more is found, so redacting the result
        again changes nothing (a shorter marker can bring a phone word near a bare number).
        """
        counts: Counter[str] = Counter()
        for _round in range(_MAX_ROUNDS):
            found = 0
            for kind, finder in self._finders:
                spans = list(finder(text))
                if spans:
                    text = _replace(text, spans, MARKERS[kind])
                    counts[kind] += len(spans)
                    found += len(spans)
            if not found:
                break
        return text, counts

    def _ips(self, text: str) -> Iterator[tuple[int, int]]:
        spans: list[tuple[int, int]] = []
        if "." in text:
            for match in _IPV4.finditer(text):
                if not _VERSION_WORD.search(text, max(0, match.start() - 12), match.start()):
                    spans += self._routable(match)
        if "::" in text or text.count(":") >= 7:
            for match in _IPV6.finditer(text):
                value = match.group()
                groups = [g for g in value.split(":") if g]
                if len(groups) >= 3 and any(c.isdigit() for c in value):
                    spans += self._routable(match)
        return iter(sorted(spans))

    def _routable(self, match: re.Match[str]) -> list[tuple[int, int]]:
        try:
            address = ipaddress.ip_address(match.group())
        except ValueError:
            return []
        return [match.span()] if self._private_ips or address.is_global else []

    def _phones(self, text: str) -> Iterator[tuple[int, int]]:
        seen_end = 0
        for index, candidate in enumerate(_PHONE_CANDIDATE.finditer(text)):
            if candidate.end() <= seen_end:
                continue
            if index >= self._max_phone_candidates:
                if sum(c.isdigit() for c in candidate.group()) >= 9:
                    seen_end = candidate.end()
                    yield candidate.span()
                continue
            for start, end in self._confirm(text, candidate):
                if start >= seen_end:
                    seen_end = end
                    yield start, end

    def _confirm(self, text: str, candidate: re.Match[str]) -> list[tuple[int, int]]:
        """The phonenumbers matches in a window around ``candidate`` that pass the guards."""
        offset = max(0, candidate.start() - _WINDOW)
        window = text[offset : candidate.end() + _WINDOW]
        for region in self._regions:
            matcher = phonenumbers.PhoneNumberMatcher(window, region, leniency=self._leniency)
            found = [
                (offset + m.start, offset + m.end)
                for m in matcher
                if offset + m.end > candidate.start() and offset + m.start < candidate.end()
            ]
            found = [(s, e) for s, e in found if _phone_context_ok(text, s, e)]
            if found:
                return found
        return []


def _phone_context_ok(text: str, start: int, end: int) -> bool:
    """False for decimals, ids (after "order", "ISBN"...) and bare runs with no phone word."""
    raw = text[start:end]
    if _DECIMAL.fullmatch(raw) or _IN_NUMBER_BEFORE.search(text, max(0, start - 2), start):
        return False
    if _IN_NUMBER_AFTER.match(text, end) or _looks_like_version(raw):
        return False
    before = text[max(0, start - 40) : start]
    if _ID_WORD.search(before) or _is_isbn(raw):  # right before it: beats a phone word
        return False
    return bool(_PHONE_WORD.search(before)) or not raw.isdigit()


def _looks_like_version(raw: str) -> bool:
    """``25.1.8937393``: 3+ dotted groups, one of 1 or 5+ digits, is a version, not a phone."""
    if raw.count(".") < 2 or raw.startswith("+"):
        return False
    return any(not 2 <= len(part.strip("() ")) <= 4 for part in raw.split("."))


def _is_isbn(raw: str) -> bool:
    digits = "".join(c for c in raw if c.isdigit())
    return len(digits) == 13 and digits[:3] in ("978", "979") and isbn.is_valid(digits)


def _replace(text: str, spans: list[tuple[int, int]], marker: str) -> str:
    """``text`` with each of the (ordered, disjoint) spans replaced by ``marker``."""
    parts: list[str] = []
    last = 0
    for start, end in spans:
        parts += (text[last:start], marker)
        last = end
    parts.append(text[last:])
    return "".join(parts)


def _emails(text: str) -> Iterator[tuple[int, int]]:
    if "@" in text:
        yield from (match.span() for match in _EMAIL.finditer(text))


def _ibans(text: str) -> Iterator[tuple[int, int]]:
    for match in _IBAN.finditer(text):
        groups = match.group().split(" ")
        while groups and len("".join(groups)) >= 15:
            if iban.is_valid("".join(groups)):
                yield match.start(), match.start() + len(" ".join(groups))
                break
            groups = groups[:-1] if len(groups) > 1 else []


def _cards(text: str) -> Iterator[tuple[int, int]]:
    for match in _CARD.finditer(text):
        digits = match.group().replace(" ", "").replace("-", "")
        if 13 <= len(digits) <= 19 and luhn.is_valid(digits):
            yield match.span()


def _national_ids(text: str) -> Iterator[tuple[int, int]]:
    checks: tuple[tuple[re.Pattern[str], Callable[[str], bool]], ...] = (
        (_SSN, ssn.is_valid),
        (_NINO, lambda value: True),  # the pattern is the whole rule: NINO has no checksum
        (_NIR, nir.is_valid),
        (_DNI, lambda value: dni.is_valid(value) or nie.is_valid(value)),
        (_CODICE_FISCALE, codicefiscale.is_valid),
    )
    taken: list[tuple[int, int]] = []
    for pattern, valid in checks:
        for match in pattern.finditer(text):
            if valid(match.group()) and not _overlaps(match.span(), taken):
                taken.append(match.span())
    if _IDNR_HINT.search(text):
        for match in _IDNR.finditer(text):
            before = text[max(0, match.start() - 60) : match.start()]
            found = _IDNR_WORD.search(before) and idnr.is_valid(match.group())
            if found and not _overlaps(match.span(), taken):
                taken.append(match.span())
    yield from sorted(taken)


def _overlaps(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in taken)


def _addresses(text: str) -> Iterator[tuple[int, int]]:
    for match in _ADDRESS.finditer(text):
        words = set(re.findall(r"[A-Z][a-z]+", match.group()))
        if not words & _NOT_STREET_NAMES:
            yield match.span()
