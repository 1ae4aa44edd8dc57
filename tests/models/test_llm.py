"""Embedded GGUF models: verified reassembly, the backend protocol, the scripted fake."""

from __future__ import annotations

import hashlib
import sys
import time
from pathlib import Path

import pytest

from bastion.core.errors import ConfigError, LayerTimeoutError
from bastion.core.types import Message, Role
from bastion.models.llm import (
    INSTALL_HINT,
    GenerationOptions,
    LlamaCppBackend,
    LlmBackend,
    assemble_verified,
    default_cache_dir,
    model_path,
)
from bastion.models.llm_fakes import FakeLlm

HELLO = [Message(Role.USER, "Say hello.")]


def _parts(tmp_path: Path, chunks: list[bytes]) -> list[Path]:
    paths = []
    for index, chunk in enumerate(chunks):
        path = tmp_path / f"part{index:02d}.bin"
        path.write_bytes(chunk)
        paths.append(path)
    return paths


def test_assemble_concatenates_in_order_and_verifies(tmp_path: Path) -> None:
    chunks = [b"alpha-" * 1000, b"beta-" * 3000, b"gamma"]
    whole = b"".join(chunks)
    target = tmp_path / "cache" / "model.gguf"
    sha = hashlib.sha256(whole).hexdigest()
    out = assemble_verified(_parts(tmp_path, chunks), target, sha256=sha, size=len(whole))
    assert out == target and target.read_bytes() == whole
    assert [p.name for p in target.parent.iterdir()] == ["model.gguf"]  # no temp file left


def test_a_verified_cache_is_reused(tmp_path: Path) -> None:
    whole = b"0123456789" * 100
    parts = _parts(tmp_path, [whole])
    target = tmp_path / "model.gguf"
    sha = hashlib.sha256(whole).hexdigest()
    assemble_verified(parts, target, sha256=sha)
    before = target.stat().st_mtime_ns
    parts[0].unlink()  # the parts are not needed again
    assert assemble_verified(parts, target, sha256=sha) == target
    assert target.stat().st_mtime_ns == before


def test_a_damaged_cache_is_rebuilt(tmp_path: Path) -> None:
    whole = b"model bytes" * 50
    target = tmp_path / "model.gguf"
    target.write_bytes(b"truncated")
    sha = hashlib.sha256(whole).hexdigest()
    assemble_verified(_parts(tmp_path, [whole]), target, sha256=sha)
    assert target.read_bytes() == whole


def test_a_hash_mismatch_raises_and_leaves_no_file(tmp_path: Path) -> None:
    target = tmp_path / "cache" / "model.gguf"
    with pytest.raises(ConfigError, match="expected"):
        assemble_verified(_parts(tmp_path, [b"abc"]), target, sha256="0" * 64)
    assert not target.exists()
    assert list(target.parent.iterdir()) == []


def test_a_size_mismatch_raises(tmp_path: Path) -> None:
    sha = hashlib.sha256(b"abc").hexdigest()
    with pytest.raises(ConfigError, match="3 bytes"):
        assemble_verified(_parts(tmp_path, [b"abc"]), tmp_path / "m.gguf", sha256=sha, size=4)


def test_a_missing_part_raises(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read model chunk"):
        assemble_verified([tmp_path / "nope.bin"], tmp_path / "m.gguf", sha256="0" * 64)


def test_default_cache_dir_follows_xdg() -> None:
    assert default_cache_dir({"XDG_CACHE_HOME": "/x/cache"}) == Path("/x/cache/bastion")
    assert default_cache_dir({}) == Path.home() / ".cache" / "bastion"


def test_unknown_model_name() -> None:
    with pytest.raises(ConfigError, match="known: qwen, smollm2"):
        model_path("gpt-5")


def test_backend_without_llama_cpp_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # makes `import llama_cpp` fail
    backend = LlamaCppBackend(tmp_path / "model.gguf")
    with pytest.raises(ConfigError) as info:
        backend.complete(HELLO, GenerationOptions(max_tokens=4))
    assert INSTALL_HINT in str(info.value)


def test_backend_rejects_zero_threads(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="threads"):
        LlamaCppBackend(tmp_path / "model.gguf", threads=0)


def test_fake_follows_its_script_and_records_calls() -> None:
    fake = FakeLlm(["one", "two"])
    assert isinstance(fake, LlmBackend)
    options = GenerationOptions(max_tokens=3)
    replies = [fake.complete(HELLO, options) for _ in range(3)]
    assert replies == ["one", "two", "two"]  # the last reply repeats
    assert fake.calls[0] == (tuple(HELLO), options)


def test_fake_can_compute_replies() -> None:
    fake = FakeLlm(lambda messages, options: messages[-1].content.upper())
    assert fake.complete(HELLO, GenerationOptions()) == "SAY HELLO."


def test_fake_times_out_like_the_real_backend() -> None:
    fake = FakeLlm(["late"], delay_s=5.0)
    start = time.monotonic()
    with pytest.raises(LayerTimeoutError):
        fake.complete(HELLO, GenerationOptions(timeout_s=0.05))
    assert time.monotonic() - start < 2.0


def test_fake_needs_a_script() -> None:
    with pytest.raises(ValueError, match="at least one"):
        FakeLlm([])


@pytest.fixture(scope="module")
def smollm2() -> LlamaCppBackend:
    pytest.importorskip("llama_cpp", reason="the llm extra (llama-cpp-python) is not installed")
    try:
        path = model_path("smollm2")
    except ConfigError as exc:
        pytest.skip(f"SmolLM2 is not installed: {exc}")
    return LlamaCppBackend(path, threads=1, n_ctx=512)


def test_real_smollm2_is_deterministic_and_bounded(smollm2: LlamaCppBackend) -> None:
    options = GenerationOptions(max_tokens=8, temperature=0.0)
    first = smollm2.complete(HELLO, options)
    assert first.strip()
    assert smollm2.complete(HELLO, options) == first


def test_real_smollm2_stops_at_its_time_budget(smollm2: LlamaCppBackend) -> None:
    with pytest.raises(LayerTimeoutError):
        smollm2.complete(HELLO, GenerationOptions(max_tokens=64, timeout_s=1e-6))
