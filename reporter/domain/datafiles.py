"""Loading the packaged rule tables (``reporter/data/*.toml``) with one clear error per bad row.

Every row of every table carries ``source`` (where the fact comes from) and ``verified``
(whether it was checked against that source); a row with ``verified = false`` must also have
a ``note`` saying what is not verified, so a report can say "verify" instead of stating a
guess as fact.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from importlib import resources
from typing import Any, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    StrictBool,
    ValidationError,
    field_validator,
    model_validator,
)

from reporter.errors import ReporterError


class DataFileError(ReporterError, ValueError):
    """A rule table is malformed: the message names the file, the row and the field."""

    exit_code = 2


class DataRow(BaseModel):
    """Base of every table row: strict, frozen, sourced."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    verified: StrictBool  # "yes" or 1 is a typo, not true
    source: str
    note: str | None = None

    @field_validator("source")
    @classmethod
    def _source_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("source must say where the fact comes from")
        return value

    @model_validator(mode="after")
    def _unverified_rows_say_why(self) -> DataRow:
        if not self.verified and not (self.note and self.note.strip()):
            raise ValueError("a row with verified = false needs a note saying what is not verified")
        return self


R = TypeVar("R", bound=BaseModel)


def regex(value: str) -> str:
    """Field validator body: the value must compile as a Python regular expression."""
    try:
        re.compile(value)
    except re.error as exc:  # not a ValueError: pydantic would not report it as a field error
        raise ValueError(f"not a valid regular expression ({exc})") from None
    return value


def read_packaged(name: str) -> dict[str, Any]:
    """The parsed TOML of ``reporter/data/<name>``."""
    text = resources.files("reporter").joinpath("data", name).read_text(encoding="utf-8")
    return parse_toml(text, name)


def parse_toml(text: str, file: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DataFileError(f"{file}: not valid TOML ({exc})") from None


def parse_rows(data: Mapping[str, Any], key: str, model: type[R], file: str) -> tuple[R, ...]:
    """Validate the ``[[key]]`` rows of a table; a missing key is an empty table."""
    rows = data.get(key, [])
    if not isinstance(rows, list):
        raise DataFileError(f"{file}: '{key}' must be an array of tables ([[{key}]])")
    out: list[R] = []
    for number, row in enumerate(rows, start=1):
        try:
            out.append(model.model_validate(row))
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(part) for part in first["loc"]) or "row"
            message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
            raise DataFileError(f"{file}: [[{key}]] row {number}: {field}: {message}") from None
    return tuple(out)
