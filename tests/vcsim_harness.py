"""Run govmomi's vCenter simulator (vcsim) for the tests and the benchmark.

The launcher is a small Go program in ``tests/vcsim/`` built once from Debian's
govmomi sources and cached under ``~/.cache/vcreport-tests/`` by a hash of its
source. The simulator serves an RSA-2048 certificate (vcsim's built-in one is
RSA-1024, which OpenSSL rejects) signed by a throw-away CA, so clients verify TLS
against ``ca_bundle`` just as in production.

Used by ``tests/conftest.py`` (the fixtures) and ``benchmarks/collect.py``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import json
import os
import re
import secrets
import shutil
import signal
import ssl
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class HarnessUnavailable(Exception):
    """vcsim cannot run on this machine (no Go toolchain or govmomi sources)."""


class HarnessError(Exception):
    """vcsim could be built but failed (build error, start failure)."""


TESTS_DIR = Path(__file__).resolve().parent
LAUNCHER_SRC = TESTS_DIR / "vcsim"
GOPATH = Path("/usr/share/gocode")
GOVMOMI = GOPATH / "src/github.com/vmware/govmomi/simulator"
CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "vcreport-tests"

DEFAULT_USER = "readonly@vsphere.local"
START_TIMEOUT_S = 120.0


# --------------------------------------------------------------------------- build


def _launcher_hash() -> str:
    h = hashlib.sha256()
    for src in sorted(LAUNCHER_SRC.glob("*.go")):
        h.update(src.name.encode())
        h.update(src.read_bytes())
    gomod = GOVMOMI.parent / "go.mod"
    if gomod.exists():
        h.update(gomod.read_bytes())
    return h.hexdigest()[:16]


def build_launcher() -> Path:
    """Build (or reuse) the launcher binary; ``HarnessUnavailable`` when it cannot be built here."""
    go = shutil.which("go")
    if go is None:
        raise HarnessUnavailable("vcsim needs the Go toolchain (apt-get install golang-go)")
    if not GOVMOMI.is_dir():
        raise HarnessUnavailable(
            f"vcsim needs govmomi sources in {GOVMOMI} (apt-get install golang-github-vmware-govmomi-dev)")
    binary = CACHE_DIR / f"vcsim-launcher-{_launcher_hash()}"
    if binary.exists():
        return binary
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, GO111MODULE="off", GOPATH=str(GOPATH))
    env.setdefault("GOCACHE", str(CACHE_DIR / "go-build"))
    tmp = binary.with_name(f"{binary.name}.{os.getpid()}.tmp")
    proc = subprocess.run(
        [go, "build", "-o", str(tmp), "."], cwd=LAUNCHER_SRC, env=env,
        capture_output=True, text=True, timeout=600,
    )
    if proc.returncode != 0:
        raise HarnessError(f"building the vcsim launcher failed:\n{proc.stderr[-4000:]}")
    os.replace(tmp, binary)  # atomic: concurrent sessions never run a half-written binary
    return binary


def build_saver() -> Path:
    """Build (or reuse) ``tests/sioc_save``: it writes a running simulator's inventory into a
    directory ``vcsim -load`` reads back (see that program's comment)."""
    go = shutil.which("go")
    if go is None:
        raise HarnessUnavailable("the inventory saver needs the Go toolchain (apt-get install golang-go)")
    src = TESTS_DIR / "sioc_save"
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sorted(src.glob("*.go")))).hexdigest()[:16]
    binary = CACHE_DIR / f"sioc-save-{digest}"  # the name tests/test_sioc_vcsim.py uses: one cached build
    if binary.exists():
        return binary
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, GO111MODULE="off", GOPATH=str(GOPATH))
    env.setdefault("GOCACHE", str(CACHE_DIR / "go-build"))
    tmp = binary.with_name(f"{binary.name}.{os.getpid()}.tmp")
    proc = subprocess.run([go, "build", "-o", str(tmp), "."], cwd=src, env=env, capture_output=True, text=True,
                          timeout=600)
    if proc.returncode != 0:
        raise HarnessError(f"building the inventory saver failed:\n{proc.stderr[-4000:]}")
    os.replace(tmp, binary)
    return binary


def save_inventory(sim: Vcsim, directory: Path) -> Path:
    """Save ``sim``'s inventory into ``directory`` (one ObjectContent XML per object)."""
    env = dict(os.environ, VCSIM_SAVE_PASSWORD=sim.password)
    args = [str(build_saver()), "-url", sim.url, "-user", sim.user, "-password-env", "VCSIM_SAVE_PASSWORD",
            "-dir", str(directory)]
    if sim.ca_bundle is not None:
        args += ["-ca", str(sim.ca_bundle)]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env)
    if proc.returncode != 0:
        raise HarnessError(f"saving the inventory failed:\n{proc.stderr[-4000:]}")
    return directory


# --------------------------------------------------------------------------- TLS


@dataclass(frozen=True)
class TlsFiles:
    ca: Path  # the CA to trust (ca_bundle)
    cert: Path  # server certificate, signed by ca
    key: Path


def make_tls_files(directory: Path, common_name: str = "vcsim test CA") -> TlsFiles:
    """A CA and a server certificate for 127.0.0.1/localhost, both RSA-2048."""
    directory.mkdir(parents=True, exist_ok=True)
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    except ImportError:  # pragma: no cover - cryptography comes with the test extras
        return _make_tls_files_openssl(directory, common_name)

    now = dt.datetime.now(dt.UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=True,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    files = TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    files.ca.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()))
    return files


def _make_tls_files_openssl(directory: Path, common_name: str) -> TlsFiles:  # pragma: no cover
    openssl = shutil.which("openssl")
    if openssl is None:
        raise HarnessUnavailable("vcsim needs the 'cryptography' package or the openssl CLI to make a certificate")
    files = TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    ca_key = directory / "ca.key"
    run = lambda *a: subprocess.run([openssl, *a], check=True, capture_output=True)  # noqa: E731
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key), "-out", str(files.ca),
        "-days", "2", "-subj", f"/CN={common_name}", "-addext", "basicConstraints=critical,CA:TRUE,pathlen:0",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    csr = directory / "server.csr"
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(files.key), "-out", str(csr), "-subj", "/CN=localhost")
    ext = directory / "server.ext"
    ext.write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n"
                   "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", str(csr), "-CA", str(files.ca), "-CAkey", str(ca_key), "-CAcreateserial",
        "-out", str(files.cert), "-days", "2", "-sha256", "-extfile", str(ext))
    return files


# --------------------------------------------------------------------------- running


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value))  # a JSON string is a valid TOML basic string


def toml_table(header: str, values: dict[str, Any]) -> str:
    """One TOML table (``[x]`` or ``[[x]]``); keys whose value is None are left out."""
    lines = [header]
    lines += [f"{k} = {_toml_value(v)}" for k, v in values.items() if v is not None]
    return "\n".join(lines) + "\n"


@dataclass
class Vcsim:
    """A running simulator. Credentials are test-only and random per instance."""

    host: str
    port: int
    user: str
    password: str
    ca_bundle: Path | None
    url: str
    process: subprocess.Popen[bytes] = field(repr=False)
    log_path: Path = field(repr=False)
    _sis: list[Any] = field(default_factory=list, repr=False)

    @property
    def password_env(self) -> str:
        return f"VCSIM_PASSWORD_{self.port}"

    def ssl_context(self) -> ssl.SSLContext:
        if self.ca_bundle is None:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            return ctx
        return ssl.create_default_context(cafile=str(self.ca_bundle))

    def si(self) -> Any:
        """A pyVmomi ServiceInstance connected to this simulator (logged out at stop)."""
        from pyVim.connect import SmartConnect

        si = SmartConnect(host=self.host, port=self.port, user=self.user, pwd=self.password,
                          sslContext=self.ssl_context(), httpConnectionTimeout=60)
        self._sis.append(si)
        return si

    def vcenter_table(self, **overrides: Any) -> dict[str, Any]:
        """The ``[[vcenter]]`` values for this simulator; ``password=`` sets a different password."""
        password = overrides.pop("password", self.password)
        env_name = self.password_env if password == self.password else f"{self.password_env}_{secrets.token_hex(4)}"
        os.environ[env_name] = password
        values: dict[str, Any] = {
            "name": "vcsim", "host": self.host, "port": self.port, "user": self.user,
            "password_env": env_name, "verify_tls": True,
            "ca_bundle": str(self.ca_bundle) if self.ca_bundle else None, "timeout_s": 30,
        }
        values.update(overrides)
        return values

    def config_file(self, tmp_path: Path, **overrides: Any) -> Path:
        """Write a valid vcreport TOML config for this simulator and return its path.

        ``overrides`` replace keys of the ``[[vcenter]]`` table (None drops a key);
        ``password="..."`` puts a different password into a fresh environment variable;
        ``output_dir=`` sets ``[output] dir`` (default ``tmp_path / "reports"``).
        """
        output_dir = overrides.pop("output_dir", tmp_path / "reports")
        text = toml_table("[[vcenter]]", self.vcenter_table(**overrides))
        text += "\n" + toml_table("[output]", {"dir": str(output_dir)})
        path = tmp_path / f"vcsim-{self.port}.toml"
        path.write_text(text, encoding="utf-8")
        return path

    def stop(self) -> None:
        from pyVim.connect import Disconnect

        for si in self._sis:
            try:
                Disconnect(si)
            except Exception:
                pass
        self._sis.clear()
        if self.process.poll() is None:
            try:
                if self.process.stdin:
                    self.process.stdin.close()
            except OSError:
                pass
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)


@dataclass
class VcsimLauncher:
    binary: Path
    tls: TlsFiles
    workdir: Path
    running: list[Vcsim] = field(default_factory=list)

    def start(
        self,
        *,
        vms: int = 8,
        hosts: int = 3,
        clusters: int = 1,
        standalone: int = 1,
        datastores: int = 1,
        datacenters: int = 1,
        model_dir: str | Path | None = None,
        custom_cert: bool = True,
        delay_ms: int = 0,
        autostart: bool = True,
        user: str = DEFAULT_USER,
        password: str | None = None,
        disconnect: tuple[str, ...] = (),
        drop_option_manager: tuple[str, ...] = (),
        timeout_s: float = START_TIMEOUT_S,
        host_software: str | Path | None = None,
        software_fault: dict[str, str] | None = None,
        vapi: bool = True,
        host_pnics: int = 0,
        pnic_down: tuple[str, ...] = (),
        host_model: dict[str, str] | None = None,
    ) -> Vcsim:
        """Start a simulator on a free loopback port; ``vms`` is the total VM count.

        ``hosts`` are hosts per cluster; ``standalone`` hosts per datacenter; VMs are
        spread evenly over clusters and standalone hosts (vcsim's Model.Machine).
        ``disconnect`` / ``drop_option_manager`` name hosts (e.g. ``"DC0_C0_H1"``) to mark
        disconnected / to strip of their advanced option manager, states the API cannot set.
        ``host_software`` is a directory of ``HOSTNAME.json`` software fixtures (schema in
        ``tests/fixtures/host_software/README.md``); ``software_fault`` maps host name to a fault
        (``"NoPermission"``, ``"NotSupported"``) its software managers answer with. ``vapi=False``
        serves no ``/rest`` endpoint. ``host_pnics`` gives every host at least that many pnics;
        ``pnic_down`` names ``"HOST:vmnicN"`` without link; ``host_model`` maps host name to
        ``"Vendor:Model"``.
        """
        password = password or secrets.token_urlsafe(12)
        args = [str(self.binary), "-listen", "127.0.0.1:0", "-watch-stdin",
                "-username", user, "-password", password]
        if model_dir is not None:
            args += ["-load", str(model_dir)]
        else:
            args += ["-vm", str(vms), "-host", str(hosts), "-cluster", str(clusters),
                     "-standalone", str(standalone), "-ds", str(datastores), "-dc", str(datacenters),
                     f"-autostart={'true' if autostart else 'false'}"]
        if custom_cert:
            args += ["-cert", str(self.tls.cert), "-key", str(self.tls.key)]
        if delay_ms:
            args += ["-delay-ms", str(delay_ms)]
        if disconnect:
            args += ["-disconnect", ",".join(disconnect)]
        if drop_option_manager:
            args += ["-drop-option-manager", ",".join(drop_option_manager)]
        if host_software is not None:
            args += ["-host-software", str(host_software)]
        if software_fault:
            args += ["-software-fault", ",".join(f"{h}={f}" for h, f in software_fault.items())]
        if not vapi:
            args += ["-no-vapi"]
        if host_pnics:
            args += ["-host-pnics", str(host_pnics)]
        if pnic_down:
            args += ["-pnic-down", ",".join(pnic_down)]
        if host_model:
            args += ["-host-model", ",".join(f"{h}={m}" for h, m in host_model.items())]
        log_path = Path(tempfile.mkstemp(prefix="vcsim-", suffix=".log", dir=self.workdir)[1])
        log = log_path.open("wb")
        env = dict(os.environ, TMPDIR=str(self.workdir))  # vcsim's datastore dirs live here
        proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=env)
        log.close()
        url = _read_url(proc, timeout_s)
        if url is None:
            proc.kill()
            proc.wait()
            raise HarnessError(f"vcsim did not start: {log_path.read_text(errors='replace')[-2000:]}")
        m = re.match(r"https://([^:/]+):(\d+)/sdk", url)
        assert m, url
        inst = Vcsim(host=m.group(1), port=int(m.group(2)), user=user, password=password,
                     ca_bundle=self.tls.ca if custom_cert else None, url=url, process=proc, log_path=log_path)
        self.running.append(inst)
        return inst

    def stop_all(self) -> None:
        while self.running:
            self.running.pop().stop()


def _read_url(proc: subprocess.Popen[bytes], timeout_s: float) -> str | None:
    """The launcher prints ``URL https://...`` once it accepts connections."""
    box: list[str] = []

    def reader() -> None:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode(errors="replace").strip()
        box.append(line)

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    t.join(timeout_s)
    if not box or not box[0].startswith("URL "):
        return None
    return box[0][4:]
