"""docs/methodology.md: the public explanation of every figure and rule in the reports.

Reports and finding texts link to its sections by anchor, so each anchor must exist exactly
once; it must cite every KB number the rule tables rest on; and, being customer-facing, it must
not mention internal notes, issue numbers or source file paths.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "methodology.md"
DATA_DIR = ROOT / "reporter" / "data"

# Anchors other documents link to (reports, finding references, README). Renaming one breaks
# those links, so the list is fixed here and a rename must be deliberate.
ANCHORS = (
    "collection",
    "vram-pools",
    "vram-compliance",
    "per-cpu-per-core",
    "vsan",
    "license-inventory",
    "snapshot-age",
    "snapshot-space",
    "snapshot-hygiene",
    "cbt",
    "cbt-defects",
    "cpu-mmu-win2003",
    "sioc",
    "disk-io-caps",
    "disk-scheduler",
    "nic-teaming",
    "host-software",
    "build-lifecycle",
    "findings",
    "audit-evidence",
)

ANCHOR_TAG = re.compile(r'<a id="([^"]+)"></a>')
# "KB1025279", "KB 313548", "Broadcom 310751", "Broadcom KB 313548": the number admins search by.
KB_NUMBER = re.compile(r"\b(?:KB\s?|Broadcom(?:\s+KB)?\s+)(\d{4,7})\b")
# Things that must never reach a customer-facing document.
FORBIDDEN = (
    ("internal note", re.compile(r"domain-reference", re.IGNORECASE)),
    ("internal source material", re.compile(r"\bseeds?\b", re.IGNORECASE)),
    ("issue number", re.compile(r"\bissue\s*#|\bissue\s+\d+", re.IGNORECASE)),
    ("source file path", re.compile(r"[\w/.-]+\.py\b")),
)


def kb_numbers(text: str) -> set[str]:
    return set(KB_NUMBER.findall(text))


@pytest.fixture(scope="module")
def doc() -> str:
    assert DOC.is_file(), f"{DOC} is missing"
    return DOC.read_text(encoding="utf-8")


def test_the_document_exists_and_has_a_title(doc: str) -> None:
    assert doc.startswith("# "), "methodology.md must open with a level-1 title"


@pytest.mark.parametrize("anchor", ANCHORS)
def test_every_anchor_exists_exactly_once(doc: str, anchor: str) -> None:
    assert ANCHOR_TAG.findall(doc).count(anchor) == 1, f'<a id="{anchor}"></a> must occur exactly once'


def test_each_anchor_sits_right_before_a_section_heading(doc: str) -> None:
    lines = doc.splitlines()
    for i, line in enumerate(lines):
        m = ANCHOR_TAG.fullmatch(line.strip())
        if m:
            assert i + 1 < len(lines) and lines[i + 1].startswith("## "), (
                f'anchor "{m.group(1)}" is not followed by a "## " heading')


def test_no_anchor_is_defined_twice_or_left_unlisted(doc: str) -> None:
    found = ANCHOR_TAG.findall(doc)
    assert sorted(found) == sorted(ANCHORS), (
        f"unlisted anchors: {sorted(set(found) - set(ANCHORS))}; duplicates: "
        f"{sorted({a for a in found if found.count(a) > 1})}")


def test_internal_links_point_to_existing_anchors(doc: str) -> None:
    targets = set(re.findall(r"\]\(#([^)]+)\)", doc))
    assert targets, "the document links none of its sections"
    defined = set(ANCHOR_TAG.findall(doc))
    assert targets <= defined, f"links to missing anchors: {sorted(targets - defined)}"


@pytest.mark.parametrize("label,pattern", FORBIDDEN, ids=[f[0] for f in FORBIDDEN])
def test_no_internal_references(doc: str, label: str, pattern: re.Pattern[str]) -> None:
    hits = [line for line in doc.splitlines() if pattern.search(line)]
    assert not hits, f"{label} in methodology.md: {hits[:3]}"


def test_every_kb_of_the_rule_tables_is_cited() -> None:
    text = DOC.read_text(encoding="utf-8")
    cited = kb_numbers(text)
    tables = sorted(DATA_DIR.glob("*.toml"))
    assert tables, f"no rule tables found in {DATA_DIR}"
    missing = {}
    for table in tables:
        absent = sorted(kb_numbers(table.read_text(encoding="utf-8")) - cited)
        if absent:
            missing[table.name] = absent
    assert not missing, f"KB numbers used by the rule tables but not cited in methodology.md: {missing}"


def test_the_kb_pattern_finds_the_spellings_the_tables_use() -> None:
    # Guards the test above against a pattern that silently matches nothing.
    sample = 'kb = "KB2090639"\nbroadcom_id "Broadcom 310751"; Broadcom KB 313548; see KB 1025279.'
    assert kb_numbers(sample) == {"2090639", "310751", "313548", "1025279"}
    tables_text = "".join(p.read_text(encoding="utf-8") for p in DATA_DIR.glob("*.toml"))
    assert {"2090639", "2136854", "313548", "2001372"} <= kb_numbers(tables_text)
