"""Family tables that are extra columns of an inventory sheet, merged into it.

"CBT per VM and disk" has one row per VM disk, exactly the rows of the Disks sheet: two sheets of
20,000 rows each for a 10,000-VM estate, and an admin who wants "disks of VMs in backup scope
whose CBT is off, on datastore X" had to match them by hand. Its CBT columns now sit in Disks;
the columns it only repeated (vApp, host and hardware version: the VMs sheet has them; disk,
capacity, mode, RDM: Disks has them; "Has changeId": Disks shows the change ID) are not copied.

A merge happens only when every row of the table matches exactly one Disks row by its key and no
key occurs twice on either side (two VMs of one name in one vCenter, say); otherwise both sheets
stay as they are, so nothing is ever lost or attached to the wrong disk.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter

from reporter.render.sheet_text import Cell


@dataclass(frozen=True)
class ColumnMerge:
    table_id: str  # the family table whose columns move ("cbt_disks")
    into: str  # the inventory sheet that takes them ("disks")
    key: tuple[str, ...]  # column titles naming one row, the same in both
    carry: tuple[tuple[str, str], ...]  # (table column, title in the merged sheet), in this order


MERGES = (
    ColumnMerge("cbt_disks", "disks", key=("vCenter", "VM", "Node"),
                carry=(("VM CBT option", "VM CBT option"), ("In backup scope", "In backup scope"),
                       ("ctkEnabled", "ctkEnabled"), ("State", "CBT state"))),
)


def _picker(idx: Sequence[int]) -> Callable[[Sequence[Cell]], tuple[Cell, ...]]:
    """The cells at ``idx`` of a row as a tuple, None past a short row's end. itemgetter does it in C
    for the usual full-width row (20,000 rows of Disks at 10,000 VMs, merged on every report)."""
    get, need = itemgetter(*idx), max(idx) + 1
    if len(idx) == 1:
        return lambda row: (row[idx[0]] if len(row) >= need else None,)
    return lambda row: get(row) if len(row) >= need else tuple(row[i] if i < len(row) else None for i in idx)


def _keys(columns: Sequence[str], rows: Sequence[Sequence[Cell]], key: tuple[str, ...]) -> list[tuple[Cell, ...]] | None:
    if any(k not in columns for k in key):
        return None
    keys = list(map(_picker([columns.index(k) for k in key]), rows))
    return keys if len(set(keys)) == len(keys) else None


def merged_rows(base_columns: Sequence[str], base_rows: Sequence[Sequence[Cell]], table_columns: Sequence[str],
                table_rows: Sequence[Sequence[Cell]], merge: ColumnMerge) -> tuple[list[str], list[list[Cell]]] | None:
    """The base sheet's columns and rows with the table's carried columns appended (empty for a base
    row the table has no row for, e.g. a template), or None when the two cannot be matched exactly."""
    if any(src not in table_columns for src, _ in merge.carry) or any(t in base_columns for _, t in merge.carry):
        return None
    base_keys, table_keys = _keys(base_columns, base_rows, merge.key), _keys(table_columns, table_rows, merge.key)
    if base_keys is None or table_keys is None:
        return None
    carried = _picker([table_columns.index(src) for src, _ in merge.carry])
    by_key = dict(zip(table_keys, map(carried, table_rows), strict=True))
    if not by_key.keys() <= set(base_keys):
        return None  # a table row without its inventory row: keep the table as its own sheet
    empty: tuple[Cell, ...] = (None,) * len(merge.carry)
    width = len(base_columns)
    get = by_key.get
    rows = [[*row, *get(k, empty)] if len(row) == width else [*row[:width], *([None] * (width - len(row))), *get(k, empty)]
            for k, row in zip(base_keys, base_rows, strict=True)]
    return [*base_columns, *(title for _, title in merge.carry)], rows
