"""vCenter sessions: TLS, timeouts, login, logout, one retry on an expired session.

Every failure a user can cause (DNS, refused, timeout, wrong password, untrusted
certificate) becomes a one-line, human reason here, with the fix where there is one.
The password never appears in a message or a log line.
"""

from __future__ import annotations

import http.client
import logging
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from pyVim.connect import Disconnect, SmartConnect
from pyVmomi import vim, vmodl

from reporter.config import VCenterConfig

log = logging.getLogger(__name__)

T = TypeVar("T")


class ConnectError(Exception):
    """A vCenter could not be logged in to; ``reason`` is one line for humans."""

    def __init__(self, error_type: str, reason: str) -> None:
        super().__init__(reason)
        self.error_type = error_type
        self.reason = reason


def ssl_context(vc: VCenterConfig, *, insecure: bool = False) -> ssl.SSLContext:
    """Verification on unless ``verify_tls = false`` or ``--insecure``; ``ca_bundle`` when set."""
    if insecure or not vc.verify_tls:
        logging.getLogger(__name__).warning(
            "%s: TLS certificate verification is OFF (%s): the connection can be intercepted",
            vc.name, "--insecure" if insecure else "verify_tls = false")
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    cafile = str(vc.ca_bundle) if vc.ca_bundle else None
    try:
        return ssl.create_default_context(cafile=cafile)
    except (OSError, ssl.SSLError) as exc:
        raise ConnectError("CaBundleError", f"cannot load ca_bundle {vc.ca_bundle}: {_oserror_text(exc)}") from None


def _oserror_text(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _short_name(exc: BaseException) -> str:
    """``vim.fault.InvalidLogin`` -> ``InvalidLogin`` (pyVmomi class names are dotted)."""
    return type(exc).__name__.rsplit(".", 1)[-1]


def _fault_text(fault: vmodl.MethodFault) -> str:
    msg = getattr(fault, "msg", None) or ""
    name = _short_name(fault)
    return f"{name}: {msg}" if msg and msg != name else name


def describe(exc: BaseException, vc: VCenterConfig, *, during: str = "connect") -> tuple[str, str]:
    """(error_type, one-line reason) for an exception raised while talking to a vCenter."""
    hint_tls = "set ca_bundle or verify_tls = false"
    if isinstance(exc, ConnectError):
        return exc.error_type, exc.reason
    if isinstance(exc, ssl.SSLCertVerificationError):
        detail = exc.verify_message or exc.reason or "unknown reason"
        return "TlsUntrusted", f"certificate verify failed: {detail} — {hint_tls}"
    if isinstance(exc, ssl.SSLError):
        return "TlsError", f"TLS handshake failed: {exc.reason or exc}"
    if isinstance(exc, socket.gaierror):
        return "DnsError", f"cannot resolve host name {vc.host!r}: {exc.strerror or exc}"
    if isinstance(exc, ConnectionRefusedError):
        return "ConnectionRefused", "connection refused (is the port right and vCenter up?)"
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return "Timeout", f"no answer within {vc.timeout_s:g} s during {during}"
    if isinstance(exc, vim.fault.InvalidLogin):
        return "InvalidLogin", f"login failed for user {vc.user!r}: wrong user name or password"
    if isinstance(exc, vim.fault.NotAuthenticated):  # a NoPermission subclass: test it first
        return "NotAuthenticated", f"session expired or was ended during {during}, also after logging in again"
    if isinstance(exc, vim.fault.NoPermission):
        priv = getattr(exc, "privilegeId", None)
        need = f" (needs privilege {priv})" if priv else ""
        return "NoPermission", f"permission denied during {during}{need}"
    if isinstance(exc, vmodl.MethodFault):
        return _short_name(exc), f"{during} failed: {_fault_text(exc)}"
    if isinstance(exc, http.client.HTTPException):
        return "HttpError", f"unexpected HTTP answer during {during}: {type(exc).__name__} {exc}".strip()
    if isinstance(exc, OSError):
        return _short_name(exc), f"{during} failed: {_oserror_text(exc)}"
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "is not a VIM server" in text:
        return "NotVCenter", "the server did not answer as a vSphere API endpoint (wrong host or port?)"
    return _short_name(exc), f"{during} failed: {text}"


_timeout_lock = threading.Lock()
_timeout_users: list[float] = []  # the timeouts of the logins under way, in any thread
_timeout_before: float | None = None


@contextmanager
def _default_socket_timeout(seconds: float) -> Iterator[None]:
    # SmartConnect's API-version probe opens its own HTTPS connection without a
    # timeout; the process default is the only way to bound it (a black-holed host
    # would otherwise hang for ever). Several vCenters log in at once from different
    # threads, so the default is shared: the longest timeout of the logins under way,
    # and the previous value comes back when the last of them ends.
    global _timeout_before
    with _timeout_lock:
        if not _timeout_users:
            _timeout_before = socket.getdefaulttimeout()
        _timeout_users.append(seconds)
        socket.setdefaulttimeout(max(_timeout_users))
    try:
        yield
    finally:
        with _timeout_lock:
            _timeout_users.remove(seconds)
            socket.setdefaulttimeout(max(_timeout_users) if _timeout_users else _timeout_before)


class Session:
    """One logged-in vCenter session; ``call`` re-logs in once if the session expired."""

    def __init__(self, vc: VCenterConfig, password: str, context: ssl.SSLContext) -> None:
        self.vc = vc
        self._password = password
        self._context = context
        self.si: Any = None
        self.content: Any = None
        self._relogin = threading.Lock()

    def login(self) -> None:
        log.debug("connecting to %s:%s as %s", self.vc.host, self.vc.port, self.vc.user)
        with _default_socket_timeout(self.vc.timeout_s):
            self.si = SmartConnect(
                host=self.vc.host, port=self.vc.port, user=self.vc.user, pwd=self._password,
                sslContext=self._context, httpConnectionTimeout=self.vc.timeout_s,
            )
        self.content = self.si.RetrieveContent()

    def logout(self) -> None:
        if self.si is None:
            return
        try:
            Disconnect(self.si)
        except Exception as exc:
            log.debug("logout from %s failed: %s", self.vc.host, exc)
        self.si = None
        self.content = None

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(self, *args)``; on ``NotAuthenticated`` log in again and retry once.

        vCenter drops idle sessions (KB1031039; docs/methodology.md#collection), which shows up as
        ``NotAuthenticated`` on the next call.
        """
        si = self.si
        try:
            return fn(self, *args)
        except vim.fault.NotAuthenticated:
            # Stages of one vCenter can run in two threads: only the first to see the
            # expiry logs in again, the other retries on the new session.
            with self._relogin:
                if self.si is si:
                    log.info("%s: session expired, logging in again", self.vc.name)
                    self.logout()
                    self.login()
            return fn(self, *args)

    def __enter__(self) -> Session:
        self.login()
        return self

    def __exit__(self, *exc: object) -> None:
        self.logout()
