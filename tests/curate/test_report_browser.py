"""The curation report opens in a real browser (Debian's chromium via Playwright) with its
plots decoded and shown, and no console errors. A screenshot goes to
``artifacts/screenshots/curation-report.png``."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if CHROMIUM is None:
    pytest.skip("no chromium on PATH (scripts/system-deps.sh installs it)", allow_module_level=True)


def test_the_report_renders_with_its_plots(tmp_path: Path) -> None:
    exe = shutil.which("bastion") or str(Path(sys.executable).with_name("bastion"))
    sample = ROOT / "examples" / "curate" / "sample.jsonl"
    done = subprocess.run(
        [exe, "curate", str(sample), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto((tmp_path / "report.html").as_uri())
        images = page.locator("img")
        assert images.count() >= 3
        for index in range(images.count()):
            width = images.nth(index).evaluate("img => img.naturalWidth")
            assert width > 100, f"plot {index} did not decode"
        assert "harm" in page.content()
        page.screenshot(path=str(SHOTS / "curation-report.png"), full_page=True)
        browser.close()
    assert errors == []
