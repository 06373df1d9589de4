"""What can be checked of PDF/A-3b without veraPDF (not installable here: no Debian or PyPI package
ships it). ``pdfa_problems`` returns one line per violation of these rules, [] when all hold:

1. XMP metadata declares pdfaid:part=3 and pdfaid:conformance=B;
2. an /OutputIntents entry of subtype /GTS_PDFA1 carries an ICC profile (stream with 'acsp' magic);
3. every font used on a page (also inside form XObjects and annotation appearances) is embedded
   (FontFile, FontFile2 or FontFile3; Type 3 fonts are content streams and need none);
4. the header and any catalog /Version say PDF 1.x (PDF/A-3 is PDF 1.7), the file is not
   encrypted and the trailer has an /ID;
5. every embedded file's specification has /AFRelationship, its stream a /Subtype (MIME type), and
   the catalog's /AF lists each specification exactly once (and nothing else);
6. every annotation (the signature widget included) has the Print flag and not Hidden/Invisible/NoView,
   and has an appearance stream unless its rectangle has zero area; the form does not ask the reader
   to generate appearances (/NeedAppearances).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from pypdf.generic import DictionaryObject, IndirectObject


def _resolve(obj: Any) -> Any:
    return obj.get_object() if isinstance(obj, IndirectObject) else obj


def _fonts_in(resources: Any, seen: set[int], out: list[tuple[str, DictionaryObject]]) -> None:
    resources = _resolve(resources)
    if not isinstance(resources, DictionaryObject):
        return
    for font in (_resolve(resources.get("/Font")) or {}).values():
        font = _resolve(font)
        out.append((str(font.get("/BaseFont", font.get("/Name", "?"))), font))
    for xobj in (_resolve(resources.get("/XObject")) or {}).values():
        ref = xobj.idnum if isinstance(xobj, IndirectObject) else id(xobj)
        if ref in seen:
            continue
        seen.add(ref)
        xobj = _resolve(xobj)
        if xobj.get("/Subtype") == "/Form":
            _fonts_in(xobj.get("/Resources"), seen, out)


def _embedded(font: DictionaryObject) -> bool:
    if font.get("/Subtype") == "/Type3":
        return True
    if font.get("/Subtype") == "/Type0":
        font = _resolve(font["/DescendantFonts"][0])
    descriptor = _resolve(font.get("/FontDescriptor"))
    return descriptor is not None and any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))


def pdfa_problems(path: Path) -> list[str]:
    reader = PdfReader(str(path))
    root = reader.trailer["/Root"]
    problems: list[str] = []

    xmp = root["/Metadata"].get_object().get_data().decode("utf-8")
    if not re.search(r'pdfaid:part="3"|<pdfaid:part>3</pdfaid:part>', xmp):
        problems.append("XMP: pdfaid:part is not 3")
    if not re.search(r'pdfaid:conformance="B"|<pdfaid:conformance>B</pdfaid:conformance>', xmp):
        problems.append("XMP: pdfaid:conformance is not B")

    intents = [_resolve(i) for i in root.get("/OutputIntents", [])]
    pdfa_intents = [i for i in intents if i.get("/S") == "/GTS_PDFA1"]
    if not pdfa_intents:
        problems.append("no /GTS_PDFA1 output intent")
    for intent in pdfa_intents:
        profile = _resolve(intent.get("/DestOutputProfile"))
        if profile is None or profile.get_data()[36:40] != b"acsp":
            problems.append("output intent without an ICC profile")

    # PDF/A-3 is ISO 32000-1 (PDF 1.7): neither the header nor a catalog /Version may say more.
    if not reader.pdf_header.startswith("%PDF-1."):
        problems.append(f"header {reader.pdf_header}")
    version = root.get("/Version")
    if version is not None and str(version).lstrip("/") not in ("1.4", "1.5", "1.6", "1.7"):
        problems.append(f"catalog /Version {version} (PDF/A-3 is PDF 1.7)")
    if reader.is_encrypted:
        problems.append("encrypted")
    if "/ID" not in reader.trailer:
        problems.append("trailer has no /ID")

    fonts: list[tuple[str, DictionaryObject]] = []
    seen: set[int] = set()
    for page in reader.pages:
        _fonts_in(page.get("/Resources"), seen, fonts)
        for annot in page.get("/Annots", []) or []:
            annot = _resolve(annot)
            flags = int(annot.get("/F", 0))
            name = f"annotation {annot.get('/Subtype')} {annot.get('/T', '')}".strip()
            if not flags & 4 or flags & (1 | 2 | 32):
                problems.append(f"{name}: /F {flags} (must print, must not be hidden)")
            rect = [float(x) for x in annot.get("/Rect", [0, 0, 0, 0])]
            zero_area = rect[0] == rect[2] and rect[1] == rect[3]
            ap = _resolve(annot.get("/AP"))
            if not zero_area and (ap is None or "/N" not in ap):
                problems.append(f"{name}: no normal appearance stream")
            if ap is not None:
                normal = _resolve(ap.get("/N"))
                if normal is not None and hasattr(normal, "get_data"):
                    _fonts_in(normal.get("/Resources"), seen, fonts)
    for name, font in fonts:
        if not _embedded(font):
            problems.append(f"font {name} is not embedded")

    form = _resolve(root.get("/AcroForm"))
    if form is not None and bool(form.get("/NeedAppearances", False)):
        problems.append("/AcroForm /NeedAppearances is true")

    names = _resolve(root.get("/Names")) or {}
    tree = _resolve(names.get("/EmbeddedFiles")) if names else None
    specs: list[Any] = []
    if tree is not None:
        pairs = list(tree.get("/Names", []))
        specs = [pairs[i + 1] for i in range(0, len(pairs), 2)]
    af = list(root.get("/AF", []))
    af_ids = [a.idnum for a in af if isinstance(a, IndirectObject)]
    spec_ids = [s.idnum for s in specs if isinstance(s, IndirectObject)]
    if len(af_ids) != len(set(af_ids)):
        problems.append(f"/AF lists {len(af_ids)} entries for {len(set(af_ids))} files")
    if sorted(set(af_ids)) != sorted(spec_ids):
        problems.append("/AF and the embedded files differ")
    for spec in specs:
        spec = _resolve(spec)
        label = str(spec.get("/UF", spec.get("/F")))
        if "/AFRelationship" not in spec:
            problems.append(f"{label}: no /AFRelationship")
        stream = _resolve(spec["/EF"]["/F"])
        if not str(stream.get("/Subtype", "")).startswith("/"):
            problems.append(f"{label}: embedded stream has no /Subtype MIME type")
    return problems
