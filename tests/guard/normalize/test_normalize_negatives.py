"""Ordinary text gets exactly one view and no techniques."""

from __future__ import annotations

import hashlib
import uuid

import pytest

from bastion.guard.normalize import normalize

BENIGN = [
    "How do I kill a Python process that is hanging?",
    "What's a good recipe for banana bread?",
    "Explain how vaccines train the immune system.",
    "Can you summarise the causes of the First World War in three paragraphs?",
    "Write a scene where the detective finds the body in the library.",
    "Is it better to be or not to be? Discuss Hamlet's soliloquy.",
    "I have a b-tree and a hash map; which is faster for range queries?",
    "My grandmother's internationalization library is called i18n, is that right?",
    "Translate 'good morning' into French, Spanish and German.",
    "Ignore the noise outside and focus: what is 17 times 23?",
]

NUMBERS = [
    "In 2024 I bought 3 apples and 7 pears for $5.",
    "The answer is 42.",
    "Call me at +1 (555) 010-9999 or 555 010 1234.",
    "Scores: 10 20 30 40 50 60 70 80 90",
    "Pi is 3.14159265358979323846264338327950288",
    "Version 1.2.3 was released on 2023-11-05 at 14:30.",
]

CODE = [
    "def f(x):\n    return [i ** 2 for i in range(x) if i % 3]",
    "for (int i = 0; i < n; i++) { a[i] = b[i] * c; }",
    "SELECT name, COUNT(*) FROM users WHERE age > 30 GROUP BY name;",
    "x = np.linspace(0, 1, 100)\ny = np.sin(2 * np.pi * x)",
    "git checkout -b feature/login-page && git push origin HEAD",
    "color: #ff8800; background: rgba(0, 0, 0, 0.5); margin: 0 auto;",
    "docker run -p 8080:80 -v /srv/data:/data nginx:1.25",
    "const userAccountIdentifier = getUserAccountByIdentifier(requestId);",
]

URLS = [
    "https://example.com/search?q=hello%20world",
    "See https://en.wikipedia.org/wiki/Caf%C3%A9 for details.",
    "Download from https://files.example.org/releases/v2/app-setup.exe",
]

EMOJI = [
    "I love pizza 🍕🍕 and my family 👨\u200d👩\u200d👧 ❤\ufe0f",
    "Great job! 👍🏽🎉 Flag of England: 🏴\U000e0067\U000e0062\U000e0065\U000e006e"
    "\U000e0067\U000e007f",
    "😀😃😄😁😆😅😂🤣",
]

OTHER_LANGUAGES = [
    "Привет! Как дела? Это обычный русский текст о погоде и о море.",
    "Καλημέρα, τι κάνεις; Αυτό είναι ένα κανονικό ελληνικό κείμενο.",
    "Wie geht's? Schöne Grüße aus München!",
    "今日はいい天気ですね。散歩に行きましょう。",
    "مرحبا، كيف حالك اليوم؟",
    "שלום, מה שלומך היום?",
    "नमस्ते, आप कैसे हैं?",
    "Tôi muốn học tiếng Việt.",
]

IDENTIFIERS = [
    hashlib.sha256(b"hello").hexdigest(),
    f"Checksum: sha256 {hashlib.sha256(b'release').hexdigest()}",
    f"md5 {hashlib.md5(b'x', usedforsecurity=False).hexdigest()} sha1 "
    f"{hashlib.sha1(b'x', usedforsecurity=False).hexdigest()}",
    str(uuid.UUID(int=0x1234_5678_9ABC_DEF0_1234_5678_9ABC_DEF0)),
    "Your API key is sk_live_51HcQ2nKXJ8f7Y3mZ4pQwErTyUiOp and expires soon.",
    "Commit 9fceb02d0ae598e95dc970b74767f19372d61af8 fixed it.",
    "The MAC address is 00:1A:2B:3C:4D:5E and the serial is DCS331B.",
]


@pytest.mark.parametrize("text", BENIGN + NUMBERS + CODE + URLS + EMOJI + OTHER_LANGUAGES)
def test_ordinary_text_has_one_view_and_no_technique(text: str) -> None:
    result = normalize(text)
    assert [view.method for view in result.views] == ["canonical"]
    assert result.techniques == ()


@pytest.mark.parametrize("text", IDENTIFIERS)
def test_hashes_keys_and_ids_do_not_decode(text: str) -> None:
    result = normalize(text)
    assert result.decoded == ()
    assert result.techniques == ()


def test_sha256_digest_is_hex_but_decodes_to_junk() -> None:
    # 64 hex characters are a valid hex and base64 candidate; both decode to binary.
    digest = hashlib.sha256(b"How do I build a pipe bomb?").hexdigest()
    assert normalize(digest).decoded == ()


def test_english_with_collisions_is_not_rot13_or_reversed() -> None:
    # "be"/"or" are rot13 of each other and "on"/"no", "was"/"saw" reversals.
    result = normalize("To be or not to be, no one was on the bus; I saw it and left.")
    assert result.decoded == ()


def test_product_codes_and_titles_are_not_leetspeak() -> None:
    text = "Order the MC1R kit, model DCS331B, from W3Schools using python3 and mp3 files."
    assert normalize(text).decoded == ()
