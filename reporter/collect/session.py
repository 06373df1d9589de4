"""vCenter sessions: TLS, timeouts, login, logout, renewal of an expired session.

Every failure a user can cause (DNS, refused, timeout, wrong password, untrusted
certificate) becomes a one-line, human reason here, with the fix where there is one.
The password never appears in a message or a log line.

Round trips count over a WAN (hundreds of ms each), so a login is the API-version
probe, ``RetrieveServiceContent`` and ``Login``, and a logout is ``Logout`` alone: the
service content read before the login is kept (it is the same for every session; it is
what govmomi does too) instead of being read again after it and before the logout, as
pyVim's ``SmartConnect`` and ``Disconnect`` do.
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

from pyVim.connect import SmartStubAdapter
from pyVmomi import vim, vmodl

from reporter.collect.retrieve import retrieve_one
from reporter.config import VCenterConfig

log = logging.getLogger(__name__)

T = TypeVar("T")

# Connections kept open per session: the stages of one vCenter run at once (``vcenter``),
# each on its own connection, and a connection not kept costs a new TLS handshake later.
POOL_SIZE = 12

# Attempts of one ``Session.call`` when the session keeps expiring under it (see there).
MAX_ATTEMPTS = 4


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
    """One logged-in vCenter session; ``call`` logs in again when the session expired.

    Several threads may use one session at once (the stages of one vCenter): a renewal
    replaces ``si`` and ``content`` together, after the new login succeeded, so a thread
    never sees a session half replaced.
    """

    def __init__(self, vc: VCenterConfig, password: str, context: ssl.SSLContext) -> None:
        self.vc = vc
        self._password = password
        self._context = context
        self.si: Any = None
        self.content: Any = None
        self._relogin = threading.Lock()

    @property
    def tls_context(self) -> ssl.SSLContext:
        """The TLS settings of this session, for the vAPI REST endpoint (``collect.tags``)."""
        return self._context

    def rest_password(self) -> str:
        """The collector's password, for the vAPI REST login with the same credentials."""
        return self._password

    def login(self) -> None:
        log.debug("connecting to %s:%s as %s", self.vc.host, self.vc.port, self.vc.user)
        with _default_socket_timeout(self.vc.timeout_s):
            # The API-version probe (an HTTPS GET of vimServiceVersions.xml), as SmartConnect.
            stub = SmartStubAdapter(host=self.vc.host, port=self.vc.port, sslContext=self._context,
                                    httpConnectionTimeout=self.vc.timeout_s, poolSize=POOL_SIZE)
        si = vim.ServiceInstance("ServiceInstance", stub)
        try:
            content: Any = si.RetrieveContent()
            content.sessionManager.Login(self.vc.user, self._password, None)
        except BaseException:
            stub.DropConnections()
            raise
        self.si, self.content = si, content

    def logout(self) -> None:
        si, content = self.si, self.content
        if si is None:
            return
        self.si = None
        self.content = None
        _logout(si, content, self.vc)

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(self, *args)``; on ``NotAuthenticated`` log in again and run it again.

        vCenter drops idle sessions (KB1031039; docs/methodology.md#collection), which shows up as
        ``NotAuthenticated`` on the next call. Stages of one vCenter run at once on one
        session, so an expiry fails all the stages in flight: the first to see it logs in
        again, the others run again on its new session. A call logs in again itself at most
        once: when the session it renewed expires too, the call fails (so does a call that
        saw the session expire ``MAX_ATTEMPTS`` times).
        """
        renewed = False
        for attempt in range(1, MAX_ATTEMPTS + 1):
            si = self.si
            try:
                return fn(self, *args)
            except vim.fault.NotAuthenticated:
                if attempt == MAX_ATTEMPTS:
                    raise
                with self._relogin:
                    if self.si is si:  # nobody renewed it since this attempt began
                        if renewed:
                            raise
                        log.info("%s: session expired, logging in again", self.vc.name)
                        self._renew()
                        renewed = True
        raise AssertionError("unreachable")  # the last attempt returned or raised

    def ensure_alive(self) -> None:
        """``NotAuthenticated`` unless this session is still logged in (one small read)."""
        content = self.content
        manager = content.sessionManager if content is not None else None
        if manager is None or retrieve_one(content, manager, ["currentSession"]).get("currentSession") is None:
            raise vim.fault.NotAuthenticated(msg="the session has ended")

    def _renew(self) -> None:
        old_si, old_content = self.si, self.content
        self.login()
        if old_si is not None:
            _logout(old_si, old_content, self.vc)

    def __enter__(self) -> Session:
        self.login()
        return self

    def __exit__(self, *exc: object) -> None:
        self.logout()


class Logouts:
    """Sessions logged out in the background: a vCenter's result goes on (to the report, or
    pickled to the parent process) while its ``Logout`` waits a round trip, and ``join`` waits
    for them all before the collection returns, so no session is left open."""

    def __init__(self) -> None:
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def start(self, session: Session) -> None:
        thread = threading.Thread(target=session.logout, name=f"{session.vc.name}-logout", daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def join(self) -> None:
        with self._lock:
            threads, self._threads = self._threads, []
        for thread in threads:
            thread.join()


def _logout(si: Any, content: Any, vc: VCenterConfig) -> None:
    """``Logout`` (it also ends the session's views) and close the connections; quietly."""
    try:
        (content if content is not None else si.RetrieveContent()).sessionManager.Logout()
    except Exception as exc:
        log.debug("logout from %s failed: %s", vc.host, exc)
    si._stub.DropConnections()
