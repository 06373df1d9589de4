"""A small client for the simulator's vAPI REST endpoint (``/rest``, the only flavour govmomi
0.24 serves): log in, create tag categories and tags, attach tags to objects, list them.

Standard library only (``urllib``), against the simulator's loopback URL and TLS context.
"""

from __future__ import annotations

import base64
import json
import ssl
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any

SESSION_HEADER = "vmware-api-session-id"


class VapiError(Exception):
    """The endpoint answered with an HTTP error (``status`` holds the code)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


class VapiClient:
    """``VapiClient(host, port, ssl_context).login(user, password)``, then the tagging calls."""

    def __init__(self, host: str, port: int, ssl_context: ssl.SSLContext, timeout_s: float = 30.0) -> None:
        self.base = f"https://{host}:{port}/rest"
        self.ssl_context = ssl_context
        self.timeout_s = timeout_s
        self.session_id: str | None = None

    def _call(self, method: str, path: str, body: Any = None, *, action: str | None = None,
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
        try:
            with urllib.request.urlopen(req, context=self.ssl_context, timeout=self.timeout_s) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            raise VapiError(exc.code, exc.read().decode(errors="replace")[:200]) from None
        if not raw:
            return None
        return json.loads(raw).get("value")

    def login(self, user: str, password: str) -> str:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.session_id = None
        self.session_id = str(self._call("POST", "/com/vmware/cis/session", headers={"Authorization": f"Basic {token}"}))
        return self.session_id

    def logout(self) -> None:
        if self.session_id:
            self._call("DELETE", "/com/vmware/cis/session")
            self.session_id = None

    def create_category(self, name: str, *, cardinality: str = "SINGLE",
                        associable_types: Sequence[str] = (), description: str = "") -> str:
        spec = {"name": name, "description": description, "cardinality": cardinality,
                "associable_types": list(associable_types)}
        return str(self._call("POST", "/com/vmware/cis/tagging/category", {"create_spec": spec}))

    def create_tag(self, name: str, category_id: str, *, description: str = "") -> str:
        spec = {"name": name, "description": description, "category_id": category_id}
        return str(self._call("POST", "/com/vmware/cis/tagging/tag", {"create_spec": spec}))

    def attach_tag(self, tag_id: str, moref_type: str, moref_value: str) -> None:
        self._call("POST", f"/com/vmware/cis/tagging/tag-association/id:{tag_id}",
                   {"object_id": {"type": moref_type, "id": moref_value}}, action="attach")

    def categories(self) -> list[dict[str, Any]]:
        ids = self._call("GET", "/com/vmware/cis/tagging/category") or []
        return [self._call("GET", f"/com/vmware/cis/tagging/category/id:{i}") for i in ids]

    def tags(self) -> list[dict[str, Any]]:
        ids = self._call("GET", "/com/vmware/cis/tagging/tag") or []
        return [self._call("GET", f"/com/vmware/cis/tagging/tag/id:{i}") for i in ids]

    def attached_tags(self, moref_type: str, moref_value: str) -> list[str]:
        """Tag ids attached to one object."""
        got = self._call("POST", "/com/vmware/cis/tagging/tag-association",
                         {"object_id": {"type": moref_type, "id": moref_value}}, action="list-attached-tags")
        return [str(t) for t in got or []]

    def attached_objects(self, tag_id: str) -> list[tuple[str, str]]:
        """``(type, value)`` of the objects a tag is attached to."""
        got = self._call("POST", f"/com/vmware/cis/tagging/tag-association/id:{tag_id}", {},
                         action="list-attached-objects")
        return sorted((str(o["type"]), str(o["id"])) for o in got or [])
