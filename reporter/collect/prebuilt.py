"""Snapshot model instances built from values a reader has already typed, without validation.

The fast engine's device and layout readers (``fastxml.Fused``) give every field of the parts
they build by the thousand (a VM's layout files, disks, layout disks, I/O allocations) its
final type themselves: ints from ``int()`` (or plain-int defaults), plain ``str``, ``bool``,
``None``, lists of these models. pydantic's validation of such a model only repeats that, at
~3 µs a model plus ~1 µs for ``share_fields_set``: at twelve models a vcsim VM, about a
tenth of converting it. Bad data still fails where it did, in the reader (``int("x")``), and
costs only its object.

``builder(cls)`` returns a function with one parameter per field, in the model's field order,
that makes the instance pydantic's ``model_construct`` makes when given every field: its
``__dict__`` in field order (serialization follows that order), no extra, no private values,
and the fields set ``share_fields_set`` shares for that class and names. The caller must pass
values of the field types, exactly (an ``int`` subclass such as pyVmomi's ``long`` is not an
``int`` here: validation would have made it one); ``tests/test_collect_prebuilt.py`` checks
that the readers' models equal validated ones, value types and field order included.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

from reporter.core.model import share_fields_set

_M = TypeVar("_M", bound=BaseModel)


def _check(cls: type[BaseModel]) -> None:
    """Only plain frozen models: nothing of pydantic's runs between validation and the instance."""
    config = cls.model_config
    decorators = cls.__pydantic_decorators__
    hooks = (decorators.validators, decorators.field_validators, decorators.root_validators,
             decorators.model_validators)
    if (not config.get("frozen") or config.get("extra") != "forbid" or any(hooks)
            or cls.__pydantic_post_init__ or cls.__private_attributes__ or cls.__pydantic_root_model__):
        raise TypeError(f"{cls.__name__} is not a plain frozen model: build it through pydantic")


def builder(cls: type[_M]) -> Callable[..., _M]:
    """``build(field1, field2, ...)`` (positional or keyword, every field) -> a ``cls`` instance."""
    _check(cls)
    names = list(cls.model_fields)
    for name in names:
        if not name.isidentifier() or name.startswith("_"):
            raise TypeError(f"{cls.__name__}.{name}: not a plain field name")
    probe = cls.model_construct(_fields_set=set(names), **dict.fromkeys(names))
    fields_set = share_fields_set(probe).__pydantic_fields_set__  # the set shared with validated instances
    params = ", ".join(names)
    values = ", ".join(f"{name!r}: {name}" for name in names)
    # Generated like dataclasses' __init__: a dict display in field order, no loop per call.
    source = (
        f"def build({params}):\n"
        f"    m = new(cls)\n"
        f"    setattr_(m, '__dict__', {{{values}}})\n"
        f"    setattr_(m, '__pydantic_fields_set__', fields_set)\n"
        f"    setattr_(m, '__pydantic_extra__', None)\n"
        f"    setattr_(m, '__pydantic_private__', None)\n"
        f"    return m\n"
    )
    scope: dict[str, Any] = {"new": cls.__new__, "cls": cls, "setattr_": object.__setattr__,
                             "fields_set": fields_set}
    exec(compile(source, f"<prebuilt {cls.__name__}>", "exec"), scope)  # the source holds only our field names
    build: Callable[..., _M] = scope["build"]
    build.__qualname__ = build.__name__ = f"build_{cls.__name__}"
    return build
