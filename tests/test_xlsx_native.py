"""report.xlsx through libxlsxwriter: cells cross ctypes with their values, the writer's thread,
its errors, and the text cleaning both writers share."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from reporter.render import xlsx, xlsx_native
from reporter.render.sheets import Sheet

needs_native = pytest.mark.skipif(xlsx_native.library() is None,
                                  reason="libxlsxwriter is not installed (scripts/test.sh installs libxlsxwriter4)")
WRITERS = [pytest.param("libxlsxwriter", marks=needs_native), "xlsxwriter"]


def _read_back(data: bytes, tmp_path: Path, title: str) -> list[tuple[Any, ...]]:
    path = tmp_path / "r.xlsx"
    path.write_bytes(data)
    return list(openpyxl.load_workbook(path)[title].iter_rows(values_only=True))


@pytest.mark.parametrize("writer", WRITERS)
def test_repeated_text_and_numbers_keep_their_own_cells(tmp_path: Path, writer: str) -> None:
    # The native writer reuses the bytes of a text equal to the cell above: an equal text that is
    # another object, an empty cell between two repeats, the same text in another column and a
    # number in a text column must all still read back as they were written.
    first, same_text = "vc01", "".join(["vc", "01"])
    assert first == same_text and first is not same_text
    rows: list[list[Any]] = [
        [first, "a", 1, True],
        [same_text, first, 2**53, False],
        ["", first, -1.25, True],
        [first, None, 0, None],
        ["vc02", 7, 0.0, False],
        [first, "a", 10**15, True],
    ]
    sheet = Sheet("t", "T", ["vCenter", "Mixed", "Number", "Flag"], rows)
    got = _read_back(xlsx.workbook_bytes([sheet], writer), tmp_path, "T")
    assert got == [
        ("vCenter", "Mixed", "Number", "Flag"),  # a flag reads yes/no, as in the report
        ("vc01", "a", 1, "yes"),
        ("vc01", "vc01", 2**53, "no"),
        (None, "vc01", -1.25, "yes"),
        ("vc01", None, 0, None),
        ("vc02", 7, 0, "no"),
        ("vc01", "a", 10**15, "yes"),
    ]


@needs_native
def test_the_workbook_is_written_on_a_thread_of_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Its own thread gives libxlsxwriter's allocations a malloc arena of their own (see
    # xlsx_native); the caller waits for it, and no thread is left behind.
    seen: list[int] = []
    original = xlsx_native._write_sheet

    def recording(*args: Any) -> None:
        seen.append(threading.get_ident())
        original(*args)

    monkeypatch.setattr(xlsx_native, "_write_sheet", recording)
    threads = threading.active_count()
    sheets = [Sheet("a", "A", ["X"], [["1"]]), Sheet("b", "B", ["Y"], [[2]])]
    got = _read_back(xlsx.workbook_bytes(sheets, "libxlsxwriter"), tmp_path, "B")
    assert got == [("Y",), (2,)]
    assert len(seen) == 2 and len(set(seen)) == 1 and seen[0] != threading.get_ident()
    assert threading.active_count() == threads


@needs_native
def test_an_error_on_the_writer_thread_is_raised_to_the_caller(tmp_path: Path) -> None:
    # libxlsxwriter refuses a sheet name with "[" (all_sheets never makes one; this spec does)
    spec = xlsx_native.NativeSheetSpec("bad[name]", ["X"], [8], [["1"]])
    with pytest.raises(xlsx_native.NativeXlsxError, match=r"cannot add the sheet 'bad\[name\]'"):
        xlsx_native.write_workbook(tmp_path / "r.xlsx", [spec], xlsx.HEADER_STYLE, xlsx.DATETIME_FORMAT,
                                   xlsx.DATE_FORMAT, xlsx._text, xlsx._excel_datetime)


@pytest.mark.parametrize(("raw", "cell"), [
    ("one line", "one line"),
    ("line 1\nline 2\ttab", "line 1\nline 2\ttab"),  # printable but for its line break and tab
    ("line 1\nbell\x07", "line 1\nbell\ufffd"),  # a line break does not hide an illegal character
    ("form\x0cfeed", "form\ufffdfeed"),
    ("no-break\u00a0space\n", "no-break\u00a0space\n"),  # not printable, yet nothing illegal
])
def test_text_cleaning(raw: str, cell: str) -> None:
    assert xlsx._text(raw) == cell


def test_the_illegal_bytes_are_the_utf8_of_the_illegal_characters() -> None:
    # The native writer looks for XML-illegal characters in a text's UTF-8 bytes; a byte below 0x80
    # is a whole character in UTF-8, and every byte of a longer sequence is 0x80 or more.
    illegal = {cp for cp in range(0x80) if xlsx.ILLEGAL_CHARACTERS.fullmatch(chr(cp))}
    assert set(xlsx_native.XML_ILLEGAL_BYTES) == illegal
    assert illegal == {*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)}
    assert all(b >= 0x80 for ch in ("é", "\u00a0", "日", "\U0001f600") for b in ch.encode())


@pytest.mark.parametrize("writer", WRITERS)
def test_cleaned_text_and_numbers_read_back_the_same_from_both_writers(tmp_path: Path, writer: str) -> None:
    # Each text is cleaned the way _text() cleans it, whichever way a writer finds out that it must
    # be: an illegal character behind a line break or after non-ASCII text, a text over Excel's
    # size, the same text again in the next row (its bytes reused), numbers of both kinds.
    long = "x" * (xlsx.EXCEL_MAX_CELL + 10)
    rows: list[list[Any]] = [
        ["café\x07", "line 1\nline 2", 3, long],
        ["café\x07", "日本\x1b語", 2.5, long],
        ["plain", "tab\there", float("nan"), "end\x00"],
        ["plain", "no-break\u00a0space", float("-inf"), "\U0001f600"],
    ]
    sheet = Sheet("t", "T", ["A", "B", "C", "D"], rows)
    got = _read_back(xlsx.workbook_bytes([sheet], writer), tmp_path, "T")
    cut = "x" * (xlsx.EXCEL_MAX_CELL - 1) + "…"
    assert got == [
        ("A", "B", "C", "D"),
        ("café\ufffd", "line 1\nline 2", 3, cut),
        ("café\ufffd", "日本\ufffd語", 2.5, cut),
        ("plain", "tab\there", "nan", "end\ufffd"),
        ("plain", "no-break\u00a0space", "-inf", "\U0001f600"),
    ]
