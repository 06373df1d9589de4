"""License-key masking: the fast path (texts that cannot hold a key are returned as they are)
never lets a key through, and structures without keys are not copied."""

from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st

from reporter.core.masking import LICENSE_KEY_RE, mask_obj, mask_rows, mask_text

ALNUM = string.ascii_uppercase + string.digits
KEY = st.lists(st.text(ALNUM, min_size=5, max_size=5), min_size=5, max_size=5).map("-".join)
TEXT = st.text(string.ascii_letters + string.digits + " -_/:.,", max_size=40)


@given(TEXT, KEY, TEXT)
def test_a_key_anywhere_is_masked(before: str, key: str, after: str) -> None:
    text = f"{before} {key} {after}"
    out = mask_text(text)
    assert key not in out or key.startswith("XXXXX-XXXXX-XXXXX-")
    assert f"XXXXX-XXXXX-XXXXX-{key[18:23]}-{key[24:]}" in out


@given(st.text(max_size=60))
def test_fast_path_agrees_with_the_pattern(text: str) -> None:
    assert mask_text(text) == LICENSE_KEY_RE.sub(lambda m: f"XXXXX-XXXXX-XXXXX-{m.group(4)}-{m.group(5)}", text)


def test_structures_without_keys_are_the_same_objects() -> None:
    ev = {"host": "esx01", "disks": [{"label": "Hard disk 1", "gb": 40.0}], "ids": ("a", "b")}
    assert mask_obj(ev) is ev
    keyed = {"host": "esx01", "license": ["ABCDE-12345-FGHIJ-67890-KLMNO"]}
    out = mask_obj(keyed)
    assert out is not keyed and out == {"host": "esx01", "license": ["XXXXX-XXXXX-XXXXX-67890-KLMNO"]}
    assert keyed["license"] == ["ABCDE-12345-FGHIJ-67890-KLMNO"]  # the input is never changed


def test_rows_are_masked_per_cell_and_unchanged_rows_kept() -> None:
    plain = ["vc01", "esx01", 4, None, 1.5]
    keyed = ["vc01", "ABCDE-12345-FGHIJ-67890-KLMNO", 2]
    rows = [plain, keyed, plain]
    out = mask_rows(rows)
    assert out == [plain, ["vc01", "XXXXX-XXXXX-XXXXX-67890-KLMNO", 2], plain]
    assert out[0] is plain and out[2] is plain and keyed[1] == "ABCDE-12345-FGHIJ-67890-KLMNO"
    assert mask_rows([plain, plain]) is not None and all(r is plain for r in mask_rows([plain, plain]))


@given(st.lists(st.lists(st.one_of(st.none(), st.integers(), TEXT, KEY), max_size=6), max_size=6))
def test_rows_agree_with_mask_obj(rows: list[list[object]]) -> None:
    assert [list(r) for r in mask_rows(rows)] == mask_obj(rows)
