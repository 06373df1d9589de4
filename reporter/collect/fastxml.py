"""The fast engine: bulk property pages read as raw SOAP and parsed with lxml.

Same contract as ``retrieve.retrieve`` (the pyVmomi engine, which stays the
reference): ``(moid, {path: value})`` per object, pages followed until the token is
exhausted, unreadable properties recorded, an object deleted while we read left out.
Every value is what the pyVmomi engine would hand the converter for that path:

- ``values`` maps a path to the function the pyVmomi engine applies to its value
  (``convert.VM_VALUES``: MoRef -> moid, device list -> ``list[Disk]``, ...). For the
  hot ones (``_FUSED``) this module has the fused equivalent ``fn(deserialize(xml))``,
  which reads only the XML the function needs: ``disks_from_devices`` looks at disks
  and controllers and skips the other devices (NICs, CD-ROMs, video card ...) unread.
- Any other value: strings, numbers, booleans, enums, timestamps, MoRefs and arrays
  of them are converted here exactly as pyVmomi's deserializer does (same types, same
  defaults for absent fields, same MoRef classes); data objects (a host's
  ``hardware.cpuInfo``, a datastore's ``summary``) and anything unexpected are handed
  to pyVmomi's own deserializer, one ``<val>`` at a time.

``tests/test_collect_engines.py`` collects shaped vcsim inventories with both engines
and asserts equal snapshots; ``tests/test_collect_fastxml.py`` checks the readers
against pyVmomi's deserializer on replies vcsim cannot produce.

Replies are streamed (``batches.BatchPageReader``): as a reply arrives its bytes are
cut into batches of whole objects, parsed by a worker thread (lxml releases the GIL)
while this thread converts the batch before; every object is freed once converted,
so memory does not grow with the page size (a server may answer all 10,000 VMs in
one page). The next page is asked for as soon as the token is read, so the server
builds it while the client works.

Where the fast engine is more forgiving than pyVmomi: it does not read what no
converter uses (the other devices, extraConfig values of keys we skip), so malformed
data there does not fail the read; and a value that cannot be read costs only its
object (``on_error``), where pyVmomi's deserializer fails the whole page.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import partial
from typing import Any, cast

from lxml import etree
from pyVmomi import Iso8601, SoapAdapter, VmomiSupport, vim, vmodl

from reporter.collect import convert, prebuilt
from reporter.collect import listed as listed_read
from reporter.collect.batches import BatchPageReader
from reporter.collect.pages import PAGE_END, Page, PageReader, ParseError, parse_page  # noqa: F401 - parse_page: part of this API
from reporter.collect.rawsoap import RawSoap
from reporter.collect.retrieve import DEFAULT_PAGE_SIZE, ReadStats, _filter_spec, _note_missing
from reporter.core.model import Disk, IoAllocation, LayoutDisk, LayoutEx, LayoutFile, LayoutSnapshot

log = logging.getLogger(__name__)

_PC = vmodl.query.PropertyCollector
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
_V = "{urn:vim25}"  # the vim25 namespace of every vSphere API version
T_OBJ, T_PROPSET, T_MISSINGSET = _V + "obj", _V + "propSet", _V + "missingSet"
T_NAME, T_VAL = _V + "name", _V + "val"


class Fallback(Exception):
    """This value needs pyVmomi's deserializer (a shape the fused readers do not cover)."""


# --------------------------------------------------------------------------- values


def _bool(data: str) -> bool:
    # pyVmomi's rule (SoapDeserializer.EndElementHandler).
    if data == "0" or data.lower() == "false":
        return False
    if data == "1" or data.lower() == "true":
        return True
    raise TypeError(data)


def _datetime(data: str) -> Any:
    value = Iso8601.ParseISO8601(data)
    if not value:
        raise TypeError(data)
    return value


def _enum(t: Any, data: str) -> Any:
    return getattr(t, data)


def _leaf_converter(t: Any) -> Callable[[str], Any] | None:
    """``text -> value`` for a leaf type, as pyVmomi converts it; None when not a leaf."""
    if t is object or t is type or t is VmomiSupport.ManagedMethod or not isinstance(t, type):
        return None
    if issubclass(t, (list, VmomiSupport.DataObject, VmomiSupport.ManagedObject, BaseException)):
        return None
    if t is bool:
        return _bool
    if t is str:
        return str
    if t is VmomiSupport.binary:
        return None  # base64: rare, left to pyVmomi
    if t is datetime:
        return _datetime
    if issubclass(t, VmomiSupport.Enum):
        return partial(_enum, t)
    return cast(Callable[[str], Any], t)  # int, long, short, byte, float, double, URI ...: pyVmomi calls t(data)


class Values:
    """Turns ``<val>`` elements of one reply into pyVmomi-equal values.

    One instance per read (types are cached by their ``xsi:type`` text: a prefix
    means the same namespace throughout one server's replies).
    """

    def __init__(self, stub: Any) -> None:
        self.stub = stub
        self.version = stub.version
        self._lookup = SoapAdapter.SoapDeserializer(stub)
        self._types: dict[str, Any] = {}
        self._mo_types: dict[str | None, Any] = {}
        self._leaf: dict[Any, Callable[[str], Any] | None] = {}
        self._any: dict[str | None, Callable[[Any], Any]] = {}
        self._props: dict[tuple[Any, str], tuple[str, Any, bool]] = {}  # (class, tag) -> property
        self._blank: dict[Any, Callable[[], Any]] = {}  # class -> a new instance, as its constructor makes it
        self._kinds: dict[tuple[Any, str | None], tuple[str, Any]] = {}  # (declared, xsi:type) -> reading
        # pyVmomi keeps a MoRef's serverGuid attribute when its stub does not handle them.
        self._keep_guids = not (stub is not None and stub.SupportServerGUIDs())
        self.fragments = 0  # values handed to pyVmomi's deserializer (it leaves reference cycles)

    # -- types

    def xsi_type(self, el: Any, xsi: str) -> Any:
        t = self._types.get(xsi)
        if t is None:
            prefix, _, name = xsi.rpartition(":")
            ns = el.nsmap.get(prefix or None)
            t = self._lookup.LookupWsdlType(ns, name, allowManagedObjectReference=True)
            if self.version:
                t = VmomiSupport.GetCompatibleType(t, self.version)
            self._types[xsi] = t
        return t

    def element_type(self, el: Any, declared: Any) -> Any:
        """The type pyVmomi gives ``el`` (its ``xsi:type`` when set, else the declared one)."""
        xsi = el.get(XSI_TYPE)
        if xsi is None:
            return declared
        t = self.xsi_type(el, xsi)
        return declared if (issubclass(t, list) and issubclass(declared, list)) else t

    def leaf(self, t: Any) -> Callable[[str], Any] | None:
        try:
            return self._leaf[t]
        except KeyError:
            conv = self._leaf[t] = _leaf_converter(t)
            return conv

    def moid_of(self, el: Any) -> str:
        """``moref(el)._moId`` without building the reference (same checks of its ``type``)."""
        if el.get("type") not in self._mo_types:
            self.moref(el)
        return el.text or ""

    def moref(self, el: Any) -> Any:
        """A ManagedObject reference, as pyVmomi builds it (class from the ``type`` attribute)."""
        type_attr = el.get("type")
        cls = self._mo_types.get(type_attr)
        if cls is None:
            if type_attr is None:
                raise KeyError("type")  # pyVmomi: attr['type']
            prefix, _, name = type_attr.rpartition(":")
            cls = self._lookup.LookupWsdlType(el.nsmap.get(prefix or None), name)
            self._mo_types[type_attr] = cls
        guid = el.get("serverGuid") if self._keep_guids else None
        return cls(el.text or "", self.stub, guid)

    # -- values

    def fragment(self, el: Any, declared: Any = object) -> Any:
        """pyVmomi's own deserializer on one element (exact, slower)."""
        self.fragments += 1
        return SoapAdapter.Deserialize(etree.tostring(el, with_tail=False), declared, self.stub)

    def value(self, el: Any, declared: Any = object) -> Any:
        """The value pyVmomi deserializes from ``el``, whose static type is ``declared``."""
        if declared is object:
            return self.any(el)
        t = self.element_type(el, declared)
        if issubclass(t, VmomiSupport.ManagedObject):
            return self.moref(el)
        if issubclass(t, list):
            return self._list(el, t)
        conv = self.leaf(t)
        if conv is None:
            return self.structured(el, t, declared)
        return conv(el.text or "")

    def any(self, el: Any) -> Any:
        """``value(el, object)``, e.g. a ``<val>``: its type is its ``xsi:type``."""
        xsi = el.get(XSI_TYPE)
        read = self._any.get(xsi)
        if read is None:
            read = self._any[xsi] = self._any_reader(el, xsi)
        return read(el)

    def _any_reader(self, el: Any, xsi: str | None) -> Callable[[Any], Any]:
        if xsi is None:
            return self.fragment
        t = self.xsi_type(el, xsi)
        if issubclass(t, VmomiSupport.ManagedObject):
            return self.moref
        if issubclass(t, list):
            return lambda e: self._list(e, t)
        conv = self.leaf(t)
        if conv is None:
            return lambda e: self.structured(e, t, object)
        return lambda e: conv(e.text or "")

    def _list(self, el: Any, t: Any) -> Any:
        item = t.Item
        out = t()
        for child in el:
            out.append(self.value(child, item))
        return out

    # -- data objects (a host's network configuration, a datastore's summary ...)

    def structured(self, el: Any, t: Any, declared: Any) -> Any:
        """The data object ``el`` (of type ``t``, declared ``declared``), built from the tree
        as pyVmomi's deserializer builds it (``SoapDeserializer``'s element handlers: the
        same types, constructors and attribute assignments), without serializing ``el`` back
        to bytes for it; pyVmomi itself (``fragment``) for a shape this does not cover."""
        try:
            if self.version:
                t = VmomiSupport.GetCompatibleType(t, self.version)
            return self._build(el, t)
        except Fallback:
            return self.fragment(el, declared)

    def _build(self, el: Any, t: Any) -> Any:
        if issubclass(t, list):
            out = t()
            item = t.Item
            for c in el:
                out.append(self._child(c, item))
            return out
        if not issubclass(t, VmomiSupport.DataObject) or issubclass(t, BaseException):
            raise Fallback(f"{t.__name__} is not a plain data object")  # faults: LocalizedMethodFault rules
        new = self._blank.get(t)
        if new is None:
            new = self._blank[t] = _blank_maker(t)
        obj = new()
        props = self._props
        for c in el:
            key = (t, c.tag)
            found = props.get(key)
            if found is None:
                found = props[key] = self._prop(t, c.tag)
            name, declared, declared_list = found
            value = self._child(c, declared)
            if declared_list and not isinstance(value, list):
                getattr(obj, name).append(value)  # one item of an array property
            elif value is not None and declared is not object and isinstance(value, declared) and not (
                    declared_list and not value):
                _set(obj, name, value)  # what CheckField lets through at once: the value is of its type
            else:
                setattr(obj, name, value)  # CheckField decides (None, an empty list, Any, a wrong type)
        return obj

    @staticmethod
    def _prop(t: Any, tag: str) -> tuple[str, Any, bool]:
        local = tag.rpartition("}")[2]
        try:
            info = VmomiSupport.GetPropertyInfo(t, local)
        except AttributeError:
            raise Fallback(f"{t.__name__} has no property {local}") from None
        if t.__setattr__ is not VmomiSupport.DataObject.__setattr__ or info is not t._GetPropertyInfo(info.name):
            raise Fallback(f"{t.__name__}.{local} is not a plain property")  # (no such pyVmomi type today)
        return info.name, info.type, issubclass(info.type, list)

    def _child(self, el: Any, declared: Any) -> Any:
        """One element inside a data object or array (``StartElementHandler``'s typing)."""
        xsi = el.get(XSI_TYPE)
        key = (declared, xsi)
        found = self._kinds.get(key)
        if found is None:
            found = self._kinds[key] = self._kind(el, declared, xsi)
        kind, t = found
        if kind is _LEAF:
            if len(el):
                raise Fallback(f"{t} value with elements")
            return t(el.text or "")
        if kind is _BUILD:
            return self._build(el, t)
        return self.moref(el)

    def _kind(self, el: Any, declared: Any, xsi: str | None) -> tuple[str, Any]:
        """How ``_child`` reads an element of this declared and ``xsi:type``: (kind, type or converter)."""
        if declared is type or declared is VmomiSupport.ManagedMethod or declared is VmomiSupport.PropertyPath:
            raise Fallback("a type or method name")
        if xsi:
            t = self.xsi_type(el, xsi)
            if issubclass(t, list) and issubclass(declared, list):
                t = declared
        else:
            t = declared.Item if issubclass(declared, list) else declared
        if self.version:
            t = VmomiSupport.GetCompatibleType(t, self.version)
        if issubclass(t, VmomiSupport.ManagedObject):
            return _MOREF, t
        if issubclass(t, (VmomiSupport.DataObject, list)):
            return _BUILD, t
        conv = self.leaf(t)
        if conv is None:
            raise Fallback(f"{t.__name__} value")
        return _LEAF, conv


_LEAF, _BUILD, _MOREF = "leaf", "build", "moref"
_set = object.__setattr__


def _blank_maker(t: Any) -> Callable[[], Any]:
    """``t`` (a data object class) -> a function making what ``t()`` makes: every property at
    its default (a new empty array for arrays), set in property order as ``DataObject.__init__``
    sets them, without walking the class's property list and type tests on every call (a
    host's network configuration is hundreds of data objects)."""
    if t.__init__ is not VmomiSupport.DataObject.__init__ or t.__new__ is not object.__new__:
        return cast(Callable[[], Any], t)  # a class of its own making: its constructor
    probe = t()
    defaults = {p.name: getattr(probe, p.name) for p in t._GetPropertyList()}
    arrays = [(name, type(value)) for name, value in defaults.items() if isinstance(value, list)]  # each empty
    new = object.__new__

    def blank() -> Any:
        obj = new(t)
        d = obj.__dict__
        d.update(defaults)
        for name, array in arrays:
            d[name] = array()
        return obj

    return blank


# --------------------------------------------------------------------------- fused readers
#
# Each reader below equals ``fn(Values.value(val))`` for its ``fn`` in ``_FUSED``.
# Defaults of absent fields come from pyVmomi's classes (a required int is 0, a
# required string "", an optional field None), read once per class.

_D = vim.vm.device
_DEVICE_ARRAY: Any = _D.VirtualDevice.Array  # type: ignore[attr-defined]
_OPTION_ARRAY: Any = vim.option.OptionValue.Array  # type: ignore[attr-defined]
_defaults_cache: dict[Any, dict[str, Any]] = {}


def _defaults(cls: Any) -> dict[str, Any]:
    d = _defaults_cache.get(cls)
    if d is None:
        inst = cls()
        d = _defaults_cache[cls] = {p.name: getattr(inst, p.name) for p in cls._GetPropertyList()}
    return d


_int_defaults_cache: dict[Any, dict[str, Any]] = {}


def _int_defaults(cls: Any) -> dict[str, Any]:
    """``_defaults``, pyVmomi's int subclasses (``long``, ``short`` ...) as plain ints: the values of
    the models ``prebuilt`` builds without validation, which would have made them ints."""
    d = _int_defaults_cache.get(cls)
    if d is None:
        d = _int_defaults_cache[cls] = {
            name: int(v) if isinstance(v, int) and not isinstance(v, bool) else v
            for name, v in _defaults(cls).items()}
    return d


# The VM parts the readers below build by the thousand, from values they typed (see prebuilt).
_DISK = prebuilt.builder(Disk)
_IO = prebuilt.builder(IoAllocation)
_LAYOUT = prebuilt.builder(LayoutEx)
_LAYOUT_FILE = prebuilt.builder(LayoutFile)
_LAYOUT_DISK = prebuilt.builder(LayoutDisk)
_LAYOUT_SNAPSHOT = prebuilt.builder(LayoutSnapshot)
_NO_BACKING = dict.fromkeys(("datastore", "backing_file", "disk_mode", "compatibility_mode", "thin", "change_id"))


def _tags(*names: str) -> dict[str, str]:
    return {_V + n: n for n in names}


_DEVICE_TAGS = _tags("key", "busNumber")
_DISK_INT_TAGS = _tags("key", "controllerKey", "unitNumber", "capacityInKB", "capacityInBytes")
T_DEVICE_INFO, T_BACKING, T_SIOA = _V + "deviceInfo", _V + "backing", _V + "storageIOAllocation"
T_LABEL = _V + "label"
_BACKING_FIELDS = ("datastore", "fileName", "diskMode", "compatibilityMode", "thinProvisioned", "changeId")
_BACKING_TAGS = _tags(*_BACKING_FIELDS)
T_LIMIT, T_SHARES, T_RESERVATION, T_LEVEL = _V + "limit", _V + "shares", _V + "reservation", _V + "level"


class Fused:
    """The fused readers of one read (they share its ``Values`` type caches)."""

    def __init__(self, values: Values) -> None:
        self.v = values
        self._kinds: dict[str | None, tuple[Any, str | None]] = {}
        self._backings: dict[str | None, tuple[str, dict[str, Any]]] = {}
        self._refs: dict[str | None, tuple[bool, Any]] = {}

    def _expect(self, el: Any, declared: Any) -> Any:
        t = self.v.element_type(el, declared)
        if t is not declared:
            raise Fallback(f"{el.get(XSI_TYPE)} where {declared.__name__} was expected")
        return t

    # -- config.hardware.device -> convert.disks_from_devices

    def _device(self, xsi: str | None, el: Any) -> tuple[Any, str | None]:
        found = self._kinds.get(xsi)
        if found is None:
            cls = self.v.element_type(el, _D.VirtualDevice)
            found = self._kinds[xsi] = (cls, convert._device_kind(cls))
        return found

    def devices(self, val: Any) -> list[Any]:
        t = self.v.element_type(val, _DEVICE_ARRAY)
        if not (issubclass(t, list) and t.Item is _D.VirtualDevice):
            raise Fallback(f"device list of type {t}")
        controllers: dict[int, tuple[str, int]] = {}
        disks = []
        kinds = self._kinds
        for dev in val:
            xsi = dev.get(XSI_TYPE)
            cls, kind = kinds.get(xsi) or self._device(xsi, dev)
            if kind is None:
                continue
            if kind is convert._DISK:
                disks.append((cls, dev))
                continue
            d = _int_defaults(cls)
            fields = {"key": d["key"], "busNumber": d["busNumber"]}
            for c in dev:
                name = _DEVICE_TAGS.get(c.tag)
                if name is not None:
                    fields[name] = int(c.text or "")
            controllers[fields["key"]] = (kind, fields["busNumber"])
        return [self._disk(cls, dev, controllers) for cls, dev in disks]

    def _disk(self, cls: Any, dev: Any, controllers: dict[int, tuple[str, int]]) -> Any:
        d = _int_defaults(cls)
        f = {n: d[n] for n in ("key", "controllerKey", "unitNumber", "capacityInKB", "capacityInBytes")}
        label = None
        backing_type = None
        backing: dict[str, Any] = {}
        io = None
        for c in dev:
            tag = c.tag
            name = _DISK_INT_TAGS.get(tag)
            if name is not None:
                f[name] = int(c.text or "")
            elif tag == T_DEVICE_INFO:
                label = self._label(c)
            elif tag == T_BACKING:
                backing_type, backing = self._backing(c)
            elif tag == T_SIOA:
                io = self._io(c)
        # convert.build_disk, with the values typed here (plain ints: the defaults come from _int_defaults).
        ctrl, bus = convert.disk_slot(controllers, f["controllerKey"])
        capacity = convert.disk_capacity(f["capacityInKB"], f["capacityInBytes"])
        b = backing or _NO_BACKING
        return _DISK(key=f["key"], label=label, controller=ctrl, bus_number=bus, unit_number=f["unitNumber"],
                     capacity_bytes=capacity, datastore=b["datastore"], backing_file=b["backing_file"],
                     backing_type=backing_type, disk_mode=b["disk_mode"], compatibility_mode=b["compatibility_mode"],
                     thin=b["thin"], change_id=b["change_id"], io=io)

    def _label(self, el: Any) -> str:
        cls = self.v.element_type(el, vim.Description)
        label: str = _defaults(cls)["label"]
        for c in el:
            if c.tag == T_LABEL:
                label = c.text or ""
        return label

    def _backing(self, el: Any) -> tuple[str, dict[str, Any]]:
        xsi = el.get(XSI_TYPE)
        found = self._backings.get(xsi)
        if found is None:
            cls = self.v.element_type(el, _D.VirtualDevice.BackingInfo)
            d = _defaults(cls)
            # Only the fields this backing type has; getattr(backing, field, None) is None for the others.
            found = self._backings[xsi] = (convert._backing_kind(cls), {f: d[f] for f in _BACKING_FIELDS if f in d})
        kind, defaults = found
        fields = dict.fromkeys(_BACKING_FIELDS)
        fields.update(defaults)
        for c in el:
            tag = c.tag
            name = _BACKING_TAGS.get(tag)
            if name is None or name not in defaults:
                continue
            if name == "datastore":
                fields[name] = self.v.moid_of(c)
            elif name == "thinProvisioned":
                fields[name] = _bool(c.text or "")
            else:
                fields[name] = c.text or ""
        return kind, {
            "datastore": fields["datastore"], "backing_file": fields["fileName"],
            "disk_mode": convert.text(fields["diskMode"]),
            "compatibility_mode": convert.text(fields["compatibilityMode"]),
            "thin": fields["thinProvisioned"], "change_id": fields["changeId"],
        }

    def _io(self, el: Any) -> Any:
        alloc = self._expect(el, vim.StorageResourceManager.IOAllocationInfo)
        d = _int_defaults(alloc)
        limit, reservation, shares = d["limit"], d["reservation"], d["shares"]
        for c in el:
            tag = c.tag
            if tag == T_LIMIT:
                limit = int(c.text or "")
            elif tag == T_RESERVATION:
                reservation = int(c.text or "")
            elif tag == T_SHARES:
                shares = self._shares(c)
        level, count = shares if shares is not None else (None, None)
        return _IO(limit=limit, shares_level=convert.text(level), shares=count, reservation=reservation)

    def _shares(self, el: Any) -> tuple[Any, int]:
        cls = self._expect(el, vim.SharesInfo)
        d = _int_defaults(cls)
        level, count = d["level"], d["shares"]
        for c in el:
            if c.tag == T_LEVEL:
                level = self.v.value(c, vim.SharesInfo.Level)
            elif c.tag == T_SHARES:
                count = int(c.text or "")
        return level, count

    # -- layoutEx -> convert.layout_ex

    def layout(self, val: Any) -> Any:
        self._expect(val, vim.vm.FileLayoutEx)
        files, disks, snapshots = [], [], []
        for c in val:
            tag = c.tag
            if tag == T_FILE:
                files.append(self._file(c))
            elif tag == T_DISK:
                disks.append(self._layout_disk(c))
            elif tag == T_SNAPSHOT:
                snapshots.append(self._layout_snapshot(c))
        return _LAYOUT(files=files, disks=disks, snapshots=snapshots)

    def _file(self, el: Any) -> Any:
        if el.get(XSI_TYPE) is not None:
            self._expect(el, _FileInfo)
        f = list(_FILE_DEFAULT_VALUES)
        for c in el:
            i = _FILE_TAGS.get(c.tag)
            if i is not None:
                f[i] = c.text or ""
        key, name, type_, size, unique = f
        # convert.build_layout_file: name and type are plain str here (text or the "" defaults).
        return _LAYOUT_FILE(key=int(key) if key.__class__ is str else key, name=name, type=type_,
                            size=int(size) if size.__class__ is str else size,
                            unique_size=int(unique) if unique.__class__ is str else unique)

    def _layout_disk(self, el: Any) -> Any:
        self._expect(el, _DiskLayout)
        key = _DISK_LAYOUT_DEFAULTS["key"]
        chain = []
        for c in el:
            tag = c.tag
            if tag == T_KEY:
                key = int(c.text or "")
            elif tag == T_CHAIN:
                self._expect(c, _DiskUnit)
                chain.append([int(k.text or "") for k in c if k.tag == T_FILE_KEY])
        return _LAYOUT_DISK(key=key, chain=chain)

    def _layout_snapshot(self, el: Any) -> Any:
        self._expect(el, _SnapshotLayout)
        d = _int_defaults(_SnapshotLayout)
        ref, data_key, memory_key, disks = d["key"], d["dataKey"], d["memoryKey"], []
        for c in el:
            tag = c.tag
            if tag == T_KEY:
                ref = self.v.moref(c)
            elif tag == T_DATA_KEY:
                data_key = int(c.text or "")
            elif tag == T_MEMORY_KEY:
                memory_key = int(c.text or "")
            elif tag == T_DISK:
                disks.append(self._layout_disk(c))
        return _LAYOUT_SNAPSHOT(moid=ref._moId, data_key=data_key, memory_key=memory_key, disks=disks)

    # -- snapshot -> convert.snapshot_info

    def snapshot(self, val: Any) -> Any:
        self._expect(val, vim.vm.SnapshotInfo)
        current = None
        roots = []
        for c in val:
            tag = c.tag
            if tag == T_CURRENT:
                current = self.v.moref(c)
            elif tag == T_ROOTS:
                roots.append(self._tree(c))
        return roots, (current._moId if current is not None else None)

    def _tree(self, el: Any) -> Any:
        self._expect(el, _Tree)
        f = dict(_defaults(_Tree))
        children = []
        for c in el:
            tag = c.tag
            if tag == T_CHILDREN:
                children.append(self._tree(c))
                continue
            name = _TREE_TAGS.get(tag)
            if name == "snapshot":
                f[name] = self.v.moref(c)
            elif name is not None:
                f[name] = self.v.value(c, _TREE_TYPES[name])
        return convert.build_snapshot_node(
            moid=f["snapshot"]._moId, id=f["id"], name=f["name"], description=f["description"],
            create_time=f["createTime"], state=f["state"], quiesced=f["quiesced"], children=children)

    # -- config.extraConfig -> convert.extra_config

    def extra_config(self, val: Any) -> dict[str, str]:
        t = self.v.element_type(val, _OPTION_ARRAY)
        if not (issubclass(t, list) and t.Item is vim.option.OptionValue):
            raise Fallback(f"extraConfig of type {t}")
        match = convert.EXTRA_KEY_MATCH
        out: dict[str, str] = {}
        options: Any = val
        count = len(val)
        if count > 8:
            # A real VM has ~100 keys and we keep a few: list the keys in C, visit the matches.
            # One text per option, else (an empty key, two keys) read them all one by one.
            keys = cast(list[str], _OPTION_KEYS(val))  # an XPath returning text nodes
            if len(keys) == count:
                options = [val[i] for i, key in enumerate(keys) if match(key)]
        for opt in options:
            if opt.get(XSI_TYPE) is not None:
                self._expect(opt, vim.option.OptionValue)
            key, value_el = "", None
            for c in opt:
                if c.tag == T_KEY:
                    key = c.text or ""
                elif c.tag == T_VALUE:
                    value_el = c
            if match(key):
                out[key] = str(self._any(value_el))
        return out

    def _any(self, el: Any) -> Any:
        if el is None:
            return None
        t = self.v.element_type(el, object)
        conv = self.v.leaf(t)
        if conv is None:
            raise Fallback(f"option value of type {t}")
        return conv(el.text or "")

    # -- MoRef lists / single refs

    def _ref_kind(self, val: Any) -> tuple[bool, Any]:
        """(a single reference?, the item type when an array of references, else None) for this ``xsi:type``."""
        xsi = val.get(XSI_TYPE)
        found = self._refs.get(xsi)
        if found is None:
            t = self.v.xsi_type(val, xsi) if xsi is not None else None
            single = t is not None and issubclass(t, VmomiSupport.ManagedObject)
            item = t.Item if t is not None and issubclass(t, list) else None
            found = self._refs[xsi] = (single, item if item is not None and issubclass(item, VmomiSupport.ManagedObject)
                                       else None)
        return found

    def moid(self, val: Any) -> str:
        if self._ref_kind(val)[0]:
            return self.v.moid_of(val)  # the moid, without the reference object pyVmomi would build
        moid: str = self.v.any(val)._moId
        return moid

    def moids(self, val: Any) -> list[str]:
        item = self._ref_kind(val)[1]
        if item is None:
            return [r._moId for r in self.v.any(val)]
        moid_of = self.v.moid_of
        return [moid_of(c) if c.get(XSI_TYPE) is None else self.v.value(c, item)._moId for c in val]


_FileInfo = vim.vm.FileLayoutEx.FileInfo
_DiskLayout = vim.vm.FileLayoutEx.DiskLayout
_DiskUnit = vim.vm.FileLayoutEx.DiskUnit
_SnapshotLayout = vim.vm.FileLayoutEx.SnapshotLayout
_Tree = vim.vm.SnapshotTree
_FILE_FIELDS = ("key", "name", "type", "size", "uniqueSize")
_FILE_DEFAULT_VALUES = tuple(_int_defaults(_FileInfo)[f] for f in _FILE_FIELDS)  # key, size: ints; name, type: str
_FILE_TAGS = {_V + f: i for i, f in enumerate(_FILE_FIELDS)}
_DISK_LAYOUT_DEFAULTS = _int_defaults(_DiskLayout)
T_FILE, T_DISK, T_SNAPSHOT, T_KEY = _V + "file", _V + "disk", _V + "snapshot", _V + "key"
T_CHAIN, T_FILE_KEY = _V + "chain", _V + "fileKey"
T_DATA_KEY, T_MEMORY_KEY, T_VALUE = _V + "dataKey", _V + "memoryKey", _V + "value"
T_CURRENT, T_ROOTS, T_CHILDREN = _V + "currentSnapshot", _V + "rootSnapshotList", _V + "childSnapshotList"
_TREE_TYPES = {name: _Tree._GetPropertyInfo(name).type
               for name in ("snapshot", "name", "description", "id", "createTime", "state", "quiesced")}
_TREE_TAGS = _tags(*_TREE_TYPES)
_OPTION_KEYS = etree.XPath("*/v:key/text()", namespaces={"v": _V[1:-1]}, smart_strings=False)

# values[path] function -> its fused reader (a Fused method name).
_FUSED: dict[Callable[[Any], Any], str] = {
    convert.disks_from_devices: "devices",
    convert.layout_ex: "layout",
    convert.snapshot_info: "snapshot",
    convert.extra_config: "extra_config",
    convert.moid: "moid",
    convert.moids: "moids",
}


# --------------------------------------------------------------------------- objects


class Converter:
    """``<objects>`` elements -> ``(moid, {path: value})``, values as the pyVmomi engine gives them."""

    def __init__(self, stub: Any, values: dict[str, Callable[[Any], Any]] | None) -> None:
        self.values = Values(stub)
        self.fused = Fused(self.values)
        self.table = values or {}
        self._readers: dict[str, Callable[[Any], Any]] = {}

    def reader(self, path: str) -> Callable[[Any], Any]:
        fn = self._readers.get(path)
        if fn is None:
            fn = self._readers[path] = self._make_reader(path)
        return fn

    def _make_reader(self, path: str) -> Callable[[Any], Any]:
        values = self.values
        post = self.table.get(path)
        if post is None:
            return values.any
        fused_name = _FUSED.get(post)
        if fused_name is None:
            return lambda val: post(values.any(val))
        fused = getattr(self.fused, fused_name)

        def read(val: Any) -> Any:
            try:
                return fused(val)
            except Fallback as exc:
                log.debug("%s read by pyVmomi: %s", path, exc)
                return post(values.any(val))

        return read

    def objects(self, page: Page, stats: ReadStats,
                on_error: Callable[[str, Exception], None] | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
        """A whole page's objects (see ``object``)."""
        for oc in page.objects:
            item = self.object(oc, stats, on_error)
            if item is not None:
                yield item

    def object(self, oc: Any, stats: ReadStats, on_error: Callable[[str, Exception], None] | None = None,
               clear: bool = True) -> tuple[str, dict[str, Any]] | None:
        """``(moid, props)`` of one ``<objects>`` element, which is cleared unless ``clear`` is
        False (the caller frees it: ``PageReader.release``); None for an object deleted while
        we read, or one whose values cannot be read when ``on_error`` takes it (as
        ``retrieve.page_objects``: without ``on_error`` the error ends the read)."""
        moid = self._moid(oc)
        try:
            props, missing = self._object(oc)
        except Exception as exc:
            if clear:
                oc.clear()
            if on_error is None:
                raise
            on_error(moid, exc)
            return None
        if clear:
            oc.clear()  # free this object's part of the document as we go
        if missing and _note_missing(moid, missing, stats):
            return None  # deleted while we read
        return moid, props

    def _moid(self, oc: Any) -> str:
        obj = oc[0] if len(oc) and oc[0].tag == T_OBJ else oc.find(T_OBJ)  # schema order: obj first
        if obj is None:
            raise ParseError("an object without its <obj> reference")
        return self.values.moid_of(obj)

    def _object(self, oc: Any) -> tuple[dict[str, Any], list[Any] | None]:
        readers = self._readers
        make_reader = self.reader
        props: dict[str, Any] = {}
        missing = None
        for c in oc:
            tag = c.tag
            if tag == T_PROPSET:
                if len(c) == 2 and (n := c[0]).tag == T_NAME and (val := c[1]).tag == T_VAL:
                    name = n.text or ""  # the schema's order: name, val
                else:
                    name, val = "", None  # pyVmomi's defaults: a required string is ""
                    for x in c:
                        if x.tag == T_NAME:
                            name = x.text or ""
                        elif x.tag == T_VAL:
                            val = x
                if val is not None:
                    props[name] = (readers.get(name) or make_reader(name))(val)
                else:  # pyVmomi: a propSet without <val> has val None
                    post = self.table.get(name)
                    props[name] = post(None) if post is not None else None
            elif tag == T_MISSINGSET:
                if missing is None:
                    missing = []
                missing.append(self.values.fragment(c, _PC.MissingProperty))
        return props, missing


def retrieve(
    content: Any,
    vimtype: type,
    paths: list[str],
    *,
    page_size: int = DEFAULT_PAGE_SIZE,
    stats: ReadStats | None = None,
    on_page: Callable[[int], None] | None = None,
    values: dict[str, Callable[[Any], Any]] | None = None,
    on_error: Callable[[str, Exception], None] | None = None,
    keep_view: bool = False,
    listed: bool = False,
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield ``(moid, properties)`` for every object of ``vimtype`` (see the module docstring).

    ``listed``: read the view's list of objects first, then them in requests of
    ``page_size`` listed objects, each asked for while the one before is converted
    (``listed.ListedPageReader``): the server does not build the whole result before
    its first byte. Same objects, same order."""
    stats = stats if stats is not None else ReadStats()
    pc = content.propertyCollector
    raw = RawSoap(pc._stub)
    converter = Converter(raw.stub, values)
    view = content.viewManager.CreateContainerView(content.rootFolder, [vimtype], True)
    reader: BatchPageReader | None = None
    try:
        refs = listed_read.view_members(raw, pc, view, vimtype) if listed else None
        if refs is not None:
            if not refs:
                stats.pages += 1  # what the view read of an empty view counts
                return
            requests = listed_read.ChunkRequests(raw, pc, vimtype, paths, page_size)
            reader = listed_read.ListedPageReader(raw, pc, refs, page_size, requests)
        else:
            first = raw.request(pc, "RetrievePropertiesEx", [[_filter_spec(view, vimtype, paths)],
                                                             _PC.RetrieveOptions(maxObjects=page_size)])
            reader = BatchPageReader(raw, pc, first)
        in_page = 0
        gc_state = _CycleGarbage(converter.values)
        for oc in reader.objects():
            if oc is PAGE_END:
                stats.pages += 1
                if in_page % page_size:
                    _progress(stats, on_page, gc_state)
                in_page = 0
                continue
            item = converter.object(oc, stats, on_error, clear=False)
            reader.release(oc)  # frees it, or leaves it to go with its batch's document
            stats.objects += 1
            in_page += 1
            if in_page % page_size == 0:  # a server may send any number in one page: progress as we go
                _progress(stats, on_page, gc_state)
            if item is not None:
                yield item
    finally:
        if reader is not None:
            reader.close()
        if not keep_view:
            try:
                view.DestroyView()  # our own view object, not vCenter state
            except Exception as exc:
                log.debug("DestroyView failed: %s", exc)


class _CycleGarbage:
    """Whether this read made reference cycles since the last collection.

    With automatic collection off (``retrieve.young_generation_gc``) a read frees its own
    cycles. Only pyVmomi's deserializer (``Values.fragment``) makes them here; the values
    read from the XML directly and the model objects are acyclic, freed by reference
    counting. A young collection traverses every object made since the last one (a page
    of VMs' models: ~5 % of converting them), so it runs only after pyVmomi did."""

    def __init__(self, values: Values) -> None:
        self.values = values
        self.seen = 0

    def collect(self) -> None:
        if self.values.fragments != self.seen and not gc.isenabled():
            self.seen = self.values.fragments
            gc.collect(1)


def _progress(stats: ReadStats, on_page: Callable[[int], None] | None, garbage: _CycleGarbage) -> None:
    if on_page is not None:
        on_page(stats.objects)
    garbage.collect()
