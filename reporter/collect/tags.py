"""vSphere tags from the vAPI REST tagging service (docs/methodology.md#collection).

Tags are not PropertyCollector data: vCenter keeps them in its vAPI "cis" services. This
module logs in to ``/rest/com/vmware/cis/session`` with the collector's own user,
password and TLS context (the same verification and CA bundle as the SOAP session), then
reads the categories, the tags and which objects carry them, and logs out. Read-only: the
only POSTs are the session login and the ``list-attached-objects-on-tags`` query (the REST
API uses POST for a query with a body); nothing is created, changed or attached.

A vCenter without the REST endpoint (an old version, a reverse proxy that only passes
``/sdk``) is not a failure: ``TagsUnavailable`` says so and the caller records a note;
tags then stay "not collected" (``VM.tags is None``). Other failures (HTTP 5xx, a reply
that is not the tagging API's JSON) are ``TagsFailed``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

SESSION_PATH = "/com/vmware/cis/session"
CATEGORY_PATH = "/com/vmware/cis/tagging/category"
TAG_PATH = "/com/vmware/cis/tagging/tag"
ASSOCIATION_PATH = "/com/vmware/cis/tagging/tag-association"
SESSION_HEADER = "vmware-api-session-id"

# Tags per list-attached-objects-on-tags query: bounded request bodies on large sites.
TAG_BATCH = 500
# A JSON reply larger than this is not a tagging answer (bounds memory on a hostile endpoint).
MAX_REPLY_BYTES = 256 * 1024 * 1024


class TagsUnavailable(Exception):
    """The vCenter has no vAPI REST endpoint: tags cannot be collected (a note, not an error)."""


class TagsFailed(Exception):
    """The tagging service answered, but not usefully (HTTP error, malformed reply)."""


@dataclass(frozen=True)
class TagData:
    """What the tagging service holds: ``"Category/Tag"`` per object ``(type, moid)``."""

    categories: dict[str, str] = field(default_factory=dict)  # category id -> name
    tags: dict[str, str] = field(default_factory=dict)  # tag id -> "Category/Tag"
    attached: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (type, moid) -> sorted labels

    def of(self, moref_type: str, moid: str) -> list[str]:
        return self.attached.get((moref_type, moid), [])


class RestClient:
    """Minimal client for the ``/rest`` flavour of the vAPI endpoint (standard library only)."""

    def __init__(self, host: str, port: int, context: ssl.SSLContext, timeout_s: float) -> None:
        self.base = f"https://{host}:{port}/rest"
        self.context = context
        self.timeout_s = timeout_s
        self.session_id: str | None = None

    def call(self, method: str, path: str, body: Any = None, *, action: str | None = None,
             headers: dict[str, str] | None = None) -> Any:
        url = self.base + path + (f"?~action={action}" if action else "")
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if self.session_id:
            req.add_header(SESSION_HEADER, self.session_id)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        with urllib.request.urlopen(req, context=self.context, timeout=self.timeout_s) as resp:
            raw = resp.read(MAX_REPLY_BYTES + 1)
        if len(raw) > MAX_REPLY_BYTES:
            raise TagsFailed(f"{method} {path}: reply larger than {MAX_REPLY_BYTES} bytes")
        if not raw:
            return None
        try:
            doc = json.loads(raw)
        except (ValueError, RecursionError):
            raise TagsFailed(f"{method} {path}: the reply is not JSON") from None
        if not isinstance(doc, dict):
            raise TagsFailed(f"{method} {path}: unexpected reply (no 'value')")
        return doc.get("value")

    def login(self, user: str, password: str) -> None:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        value = self.call("POST", SESSION_PATH, headers={"Authorization": f"Basic {token}"})
        if not isinstance(value, str) or not value:
            raise TagsFailed("the session login returned no session id")
        self.session_id = value

    def logout(self) -> None:
        if self.session_id is None:
            return
        with contextlib.suppress(OSError, TagsFailed):  # the session times out on the server anyway
            self.call("DELETE", SESSION_PATH)
        self.session_id = None


def _strings(value: Any, what: str) -> list[str]:
    if value is None:
        return []  # an empty list (govmomi's simulator sends null for it)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TagsFailed(f"unexpected {what} list in the reply")
    return value


def _record(value: Any, what: str, *keys: str) -> dict[str, Any]:
    if not isinstance(value, dict) or not all(isinstance(value.get(k), str) for k in keys):
        raise TagsFailed(f"unexpected {what} in the reply")
    return value


def parse_attachments(value: Any, tags: dict[str, str]) -> dict[tuple[str, str], list[str]]:
    """``list-attached-objects-on-tags`` -> ``(type, moid) -> sorted "Category/Tag" labels``."""
    if not isinstance(value, list):
        raise TagsFailed("unexpected attachment list in the reply")
    out: dict[tuple[str, str], set[str]] = {}
    for entry in value:
        rec = _record(entry, "attachment", "tag_id")
        label = tags.get(rec["tag_id"])
        if label is None:
            continue  # a tag deleted between the two reads
        objects = rec.get("object_ids") or []
        if not isinstance(objects, list):
            raise TagsFailed("unexpected attachment list in the reply")
        for obj in objects:
            o = _record(obj, "attached object", "type", "id")
            out.setdefault((o["type"], o["id"]), set()).add(label)
    return {k: sorted(v) for k, v in out.items()}


def _batches(items: list[str], size: int) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def read_tags(client: RestClient, user: str, password: str) -> TagData:
    """Log in, read categories, tags and attachments, log out."""
    try:
        client.login(user, password)
    except urllib.error.HTTPError as exc:
        if exc.code in (404, 405):
            raise TagsUnavailable("this vCenter has no vAPI REST endpoint (/rest answers "
                                  f"HTTP {exc.code})") from None
        if exc.code in (401, 403):
            raise TagsFailed(f"the vAPI REST login was refused (HTTP {exc.code}) for user {user!r}") from None
        raise TagsFailed(f"the vAPI REST login failed: HTTP {exc.code}") from None
    except (urllib.error.URLError, ConnectionError, TimeoutError, ssl.SSLError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TagsUnavailable(f"the vAPI REST endpoint could not be reached ({reason})") from None
    try:
        categories: dict[str, str] = {}
        for cid in _strings(client.call("GET", CATEGORY_PATH), "category"):
            rec = _record(client.call("GET", f"{CATEGORY_PATH}/id:{cid}"), "category", "name")
            categories[cid] = rec["name"]
        tags: dict[str, str] = {}
        for tid in _strings(client.call("GET", TAG_PATH), "tag"):
            rec = _record(client.call("GET", f"{TAG_PATH}/id:{tid}"), "tag", "name", "category_id")
            category = categories.get(rec["category_id"], rec["category_id"])
            tags[tid] = f"{category}/{rec['name']}"
        attached: dict[tuple[str, str], list[str]] = {}
        for batch in _batches(sorted(tags), TAG_BATCH):
            got = client.call("POST", ASSOCIATION_PATH, {"tag_ids": batch}, action="list-attached-objects-on-tags")
            for key, labels in parse_attachments(got or [], tags).items():
                attached[key] = sorted(set(attached.get(key, [])) | set(labels))
        return TagData(categories=categories, tags=tags, attached=attached)
    except urllib.error.HTTPError as exc:
        raise TagsFailed(f"the tagging service answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise TagsFailed(f"the tagging service could not be read ({getattr(exc, 'reason', exc)})") from None
    finally:
        client.logout()
