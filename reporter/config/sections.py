"""The TOML configuration: typed, strict (unknown keys are errors), secrets by reference.

Each section is its own model so later features slot in as a new field here and
a new class, without touching the loader. ``[thresholds.<family>]`` tables are kept as
written here and validated once, by ``Settings.from_config``, against the settings classes
the check families register (see ``settings.py``); this module knows no family.
"""

from __future__ import annotations

import os
import tomllib
from datetime import date, time
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictBool,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)

from reporter.core.detail import Detail
from reporter.core.formats import DEFAULT_FORMATS, Format
from reporter.errors import ConfigError


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SecretRef(_Section):
    """A secret given by reference: an environment variable or a file, never inline."""

    password_env: str | None = None
    password_file: Path | None = None

    def resolve_password(self, label: str) -> str:
        if self.password_env:
            value = os.environ.get(self.password_env)
            if value is None:
                raise ConfigError(f"{label}: environment variable {self.password_env} is not set")
            if not value:  # an "export VC01_PASSWORD=" gone wrong, not a password: say so, not "login failed"
                raise ConfigError(f"{label}: environment variable {self.password_env} is empty")
            return value
        if self.password_file:
            try:
                value = self.password_file.read_text(encoding="utf-8").rstrip("\r\n")
            except OSError as exc:
                raise ConfigError(f"{label}: cannot read password_file {self.password_file}: {exc.strerror}") from None
            except UnicodeDecodeError:
                raise ConfigError(f"{label}: password_file {self.password_file} is not UTF-8 text "
                                  "(save the password as UTF-8, one line)") from None
            if not value:
                raise ConfigError(f"{label}: password_file {self.password_file} is empty")
            return value
        raise ConfigError(f"{label}: no password source (set password_env or password_file)")


class VCenterConfig(SecretRef):
    name: str = Field(min_length=1)
    host: str = Field(min_length=1)
    port: StrictInt = Field(default=443, ge=1, le=65535)
    user: str = Field(min_length=1)
    verify_tls: StrictBool = True
    ca_bundle: Path | None = None
    timeout_s: float = Field(default=60, gt=0)
    linked_mode_group: str | None = None  # vCenters with the same group pool vRAM together

    @field_validator("name", "host", "user")
    @classmethod
    def _one_line(cls, value: str) -> str:
        # The label goes into email headers, file names and one-line messages: a CR/LF or another
        # control character there would break them (or forge a header), so refuse it here.
        if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
            raise ValueError("must be one line of text without control characters (CR, LF, tab ...)")
        return value

    @model_validator(mode="after")
    def _one_password_source(self) -> VCenterConfig:
        if not self.password_env and not self.password_file:
            raise ValueError("missing password source: set password_env or password_file")
        if self.password_env and self.password_file:
            raise ValueError("set only one of password_env and password_file")
        return self


class OutputConfig(_Section):
    dir: Path = Path("reports")
    formats: list[Format] = Field(default_factory=lambda: list(DEFAULT_FORMATS), min_length=1)
    show_license_keys: StrictBool = False
    keep_snapshots: StrictBool = True
    detail: Detail = Detail.standard  # summary | standard | full (see --detail)
    top_actions: StrictInt = Field(default=10, ge=1, le=50)  # length of the ranked action list
    # "private": files 0600, directories 0700 (snapshots hold licence keys); "umask": what the
    # process umask gives (e.g. 0644/0755), to share reports through the file system.
    file_mode: Literal["private", "umask"] = "private"
    # Largest snapshot (decompressed) a report reads: a gzip bomb fails with one line instead of
    # filling the memory. 2 GiB holds about 100,000 VMs.
    snapshot_max_bytes: StrictInt = Field(default=2 * 1024**3, ge=1024)


class HistoryConfig(_Section):
    url: str = "sqlite:///vcreport-history.db"


class EmailConfig(SecretRef):
    enabled: StrictBool = True
    smtp_host: str
    smtp_port: StrictInt = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    user: str | None = None
    sender: str
    recipients: list[str] = Field(min_length=1)
    subject_prefix: str = "[vCenter report]"
    attach: list[Format] = Field(default_factory=lambda: [Format.pdf, Format.xlsx])
    retries: int = Field(default=3, ge=0, le=10)
    retry_delay_s: float = Field(default=30, ge=0)
    timeout_s: float = Field(default=60, gt=0)
    ca_bundle: Path | None = None

    @model_validator(mode="after")
    def _auth_needs_password(self) -> EmailConfig:
        if self.password_env and self.password_file:
            raise ValueError("set only one of password_env and password_file")
        if self.user and not (self.password_env or self.password_file):
            raise ValueError("user is set but no password source (password_env or password_file)")
        return self


Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class ScheduleConfig(_Section):
    weekly_day: Weekday = "monday"
    weekly_time: time = time(6, 0)
    vram_sample_minutes: int = Field(default=15, ge=1, le=1440)
    maintenance_time: time = time(2, 30)

    @field_validator("weekly_day", mode="before")
    @classmethod
    def _lower(cls, v: Any) -> Any:
        return v.lower() if isinstance(v, str) else v


class LicensingConfig(_Section):
    vram_table: Literal["aug2011", "jul2011"] = "aug2011"
    vsan_tib_per_core: dict[str, float] = Field(default_factory=dict)  # offering -> TiB/core
    order_minimum_cores: int | None = None  # e.g. 72; sources conflict, off by default


class CollectConfig(_Section):
    """``[collect]``: how a run reads its vCenters.

    ``workers`` vCenters are collected at once, each on its own session (the time is
    network wait, so threads overlap it); ``state_dir`` holds what ``vcreport vram
    sample`` keeps between runs (a session cookie, never a password; default
    ``[output] dir``/.state).
    """

    workers: StrictInt = Field(default=8, ge=1, le=64)
    state_dir: Path | None = None


class WaiverConfig(_Section):
    check_id: str
    object: str = "*"  # fnmatch pattern on object name or id
    reason: str = Field(min_length=1)
    expires: date
    vcenter: str | None = None


# -- [audit]: signing the audit-evidence PDF (self-contained: moves as one block) -----------------

class AuditConfig(_Section):
    """``[audit]``: key and certificate that sign audit-evidence.pdf, and roots that verify it.

    No signing key configured leaves the document unsigned (it says so on its first page).
    The key passphrase is a secret by reference, like the vCenter passwords.
    """

    sign_key_file: Path | None = None
    sign_cert_file: Path | None = None
    sign_chain_files: list[Path] = Field(default_factory=list)
    sign_pkcs12_file: Path | None = None
    sign_key_passphrase_env: str | None = None
    sign_key_passphrase_file: Path | None = None
    tsa_url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    trust_files: list[Path] = Field(default_factory=list)
    embed_validation_data: StrictBool = True

    @model_validator(mode="after")
    def _consistent_sources(self) -> AuditConfig:
        if self.sign_pkcs12_file and (self.sign_key_file or self.sign_cert_file):
            raise ValueError("set either sign_pkcs12_file or sign_key_file + sign_cert_file, not both")
        if bool(self.sign_key_file) != bool(self.sign_cert_file):
            raise ValueError("sign_key_file and sign_cert_file go together")
        if self.sign_key_passphrase_env and self.sign_key_passphrase_file:
            raise ValueError("set only one of sign_key_passphrase_env and sign_key_passphrase_file")
        if (self.sign_key_passphrase_env or self.sign_key_passphrase_file) and not self.signs:
            raise ValueError("a key passphrase is set but no signing key (sign_key_file or sign_pkcs12_file)")
        if self.sign_chain_files and not self.signs:
            raise ValueError("sign_chain_files is set but no signing key (sign_key_file or sign_pkcs12_file)")
        return self

    @property
    def signs(self) -> bool:
        return bool(self.sign_key_file or self.sign_pkcs12_file)

    def resolve_passphrase(self) -> bytes | None:
        label = "[audit] key passphrase"
        if self.sign_key_passphrase_env:
            value = os.environ.get(self.sign_key_passphrase_env)
            if value is None:
                raise ConfigError(f"{label}: environment variable {self.sign_key_passphrase_env} is not set")
            if not value:
                raise ConfigError(f"{label}: environment variable {self.sign_key_passphrase_env} is empty")
            return value.encode("utf-8")
        if self.sign_key_passphrase_file:
            try:
                return self.sign_key_passphrase_file.read_bytes().rstrip(b"\r\n")
            except OSError as exc:
                raise ConfigError(f"{label}: cannot read sign_key_passphrase_file {self.sign_key_passphrase_file}: "
                                  f"{exc.strerror}") from None
        return None

    def relative_to(self, base: Path) -> None:
        """Make the file paths relative to the config file's directory, as admins expect."""
        for name in ("sign_key_file", "sign_cert_file", "sign_pkcs12_file", "sign_key_passphrase_file"):
            value = getattr(self, name)
            if value is not None and not value.is_absolute():
                setattr(self, name, base / value)
        self.sign_chain_files = [p if p.is_absolute() else base / p for p in self.sign_chain_files]
        self.trust_files = [p if p.is_absolute() else base / p for p in self.trust_files]

# -- end of [audit] ---------------------------------------------------------------------------------


class Config(_Section):
    vcenter: list[VCenterConfig] = Field(default_factory=list)
    output: OutputConfig = Field(default_factory=OutputConfig)
    history: HistoryConfig | None = None
    email: EmailConfig | None = None
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    licensing: LicensingConfig = Field(default_factory=LicensingConfig)
    collect: CollectConfig = Field(default_factory=CollectConfig)
    thresholds: dict[str, dict[str, Any]] = Field(default_factory=dict)
    waiver: list[WaiverConfig] = Field(default_factory=list)
    audit: AuditConfig = Field(default_factory=AuditConfig)

    source: Path | None = Field(default=None, exclude=True)
    # The validated ``Settings`` (set once by ``Settings.from_config``): thresholds are checked
    # against the families' settings classes once per loaded config.
    _settings: Any = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _unique_names(self) -> Config:
        names = [v.name for v in self.vcenter]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"duplicate vcenter name(s): {', '.join(sorted(dup))}")
        return self


def _format_error(exc: ValidationError, source: str) -> str:
    first = exc.errors()[0]
    loc = first["loc"]
    key = ""
    for part in loc:
        if isinstance(part, int):
            key += f"[{part}]"
        else:
            key += ("." if key else "") + str(part)
    msg = first["msg"]
    if first["type"] == "extra_forbidden":
        msg = "unknown key"
        name = str(loc[-1]) if loc else ""
        if name.endswith(("password", "passphrase")):
            # The usual first try: say where a secret goes instead (never in the file itself).
            what = "passphrase" if name.endswith("passphrase") else "password"
            msg += (f": a {what} is not written in the config; set {name}_env (the name of an environment"
                    f" variable) or {name}_file")
    elif first["type"] == "missing":
        msg = "required key is missing"
    elif msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{source}: {key or '<top>'}: {msg}{more}"


def parse_config(data: dict[str, Any], source: str = "<config>") -> Config:
    try:
        cfg = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_error(exc, source)) from None
    return cfg


def load_config(path: str | Path) -> Config:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read config: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: invalid TOML: {exc}") from None
    cfg = parse_config(data, str(p))
    base = p.parent
    # Relative paths in the config are relative to the config file, as admins expect.
    for vc in cfg.vcenter:
        if vc.ca_bundle and not vc.ca_bundle.is_absolute():
            vc.ca_bundle = base / vc.ca_bundle
        if vc.password_file and not vc.password_file.is_absolute():
            vc.password_file = base / vc.password_file
    if not cfg.output.dir.is_absolute():
        cfg.output.dir = base / cfg.output.dir
    if cfg.collect.state_dir and not cfg.collect.state_dir.is_absolute():
        cfg.collect.state_dir = base / cfg.collect.state_dir
    if cfg.email and cfg.email.password_file and not cfg.email.password_file.is_absolute():
        cfg.email.password_file = base / cfg.email.password_file
    if cfg.history and cfg.history.url.startswith("sqlite:///") and not cfg.history.url.startswith("sqlite:////"):
        rel = cfg.history.url[len("sqlite:///"):]
        if rel and rel != ":memory:":
            cfg.history.url = "sqlite:///" + str((base / rel).resolve())
    cfg.audit.relative_to(base)
    cfg.source = p
    return cfg
