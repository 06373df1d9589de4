#!/usr/bin/env python3
"""Render the Kubernetes manifests in deploy/ for one site from a values file.

    python scripts/render_deploy.py deploy/values.example.toml --out k8s/ --validate
    kubectl apply -f k8s/

The values file (TOML) lists the vCenters and the cluster settings; its ``[config]`` table holds
the site-wide vcreport configuration (output, email, thresholds, licensing, waivers). From it
the renderer writes one config per vCenter (for that vCenter's collect CronJob) and one with
every vCenter (for the vRAM sample and the merged report), checks each with vcreport's own
config parser, and fills the templates in deploy/templates/. ``--validate`` also checks every
manifest against the Kubernetes JSON schemas (needs the ``kubernetes-validate`` package).

Secrets are rendered with a placeholder value: fill them in, or leave out ``secrets.yaml`` and
create them with ``kubectl create secret`` or a secret manager (same names and keys).
Bad input is one line on stderr and exit 2.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
import tomllib
from pathlib import Path
from typing import Any, Literal

import jinja2
import tomli_w
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "deploy" / "templates"
KUBERNETES_VERSION = "1.37"  # schemas the --validate option checks against
SECRET_PLACEHOLDER = "REPLACE-ME"
CONFIG_DIR = "/etc/vcreport"
DATA_DIR = "/data"

# File name -> template; kubectl applies a directory in name order, so the namespace comes first.
OUTPUTS = {
    "00-namespace.yaml": "namespace.yaml.j2",
    "10-secrets.yaml": "secrets.yaml.j2",
    "20-config.yaml": "configmap.yaml.j2",
    "30-storage.yaml": "storage.yaml.j2",
    "40-postgres.yaml": "postgres.yaml.j2",
    "50-cronjobs.yaml": "cronjobs.yaml.j2",
}

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
QUANTITY = r"^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Amounts(_Strict):
    cpu: str = Field(pattern=QUANTITY)
    memory: str = Field(pattern=QUANTITY)


class Resources(_Strict):
    requests: Amounts
    limits: Amounts


# Sized from the README's measurements on a 2-core machine: collecting 10,000 VMs peaks at
# 287 MB RSS (2.9 s); loading + checks + every format of a 10,000-VM report peaks at 551 MB
# (PDF 14.5 s); a vRAM sample is about 9x lighter than a collect. Limits leave ~2.5x headroom.
DEFAULT_RESOURCES: dict[str, dict[str, dict[str, str]]] = {
    "collect": {"requests": {"cpu": "250m", "memory": "384Mi"}, "limits": {"cpu": "1", "memory": "768Mi"}},
    "report": {"requests": {"cpu": "500m", "memory": "768Mi"}, "limits": {"cpu": "2", "memory": "1536Mi"}},
    "vram_sample": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}},
    "postgres": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
}


class ResourceSet(_Strict):
    collect: Resources = Resources.model_validate(DEFAULT_RESOURCES["collect"])
    report: Resources = Resources.model_validate(DEFAULT_RESOURCES["report"])
    vram_sample: Resources = Resources.model_validate(DEFAULT_RESOURCES["vram_sample"])
    postgres: Resources = Resources.model_validate(DEFAULT_RESOURCES["postgres"])


class Schedules(_Strict):
    collect: str = "0 5 * * 1"  # Monday 05:00: per-vCenter collects ...
    report: str = "0 6 * * 1"  # ... and an hour later the merged report
    vram_sample: str = "*/15 * * * *"


class Storage(_Strict):
    size: str = Field(default="20Gi", pattern=QUANTITY)
    storage_class: str | None = None
    # Collect jobs of several vCenters run at once, possibly on different nodes.
    access_mode: Literal["ReadWriteMany", "ReadWriteOnce"] = "ReadWriteMany"


class Postgres(_Strict):
    mode: Literal["statefulset", "external"] = "statefulset"
    url: str | None = None  # external: SQLAlchemy URL without the password (it comes from PGPASSWORD)
    image: str = "postgres:16"
    storage_size: str = Field(default="10Gi", pattern=QUANTITY)
    storage_class: str | None = None
    user: str = Field(default="vcreport", pattern=r"^[a-z_][a-z0-9_]*$")
    database: str = Field(default="vcreport", pattern=r"^[a-z_][a-z0-9_]*$")

    @model_validator(mode="after")
    def _url_matches_mode(self) -> Postgres:
        if self.mode == "external":
            if not self.url:
                raise ValueError("mode = 'external' needs url (postgresql+psycopg2://user@host:5432/db)")
            if not self.url.startswith("postgresql"):
                raise ValueError("url must be a PostgreSQL URL (postgresql+psycopg2://user@host:5432/db)")
            if re.match(r"^[^:]+://[^/@]*:[^/@]*@", self.url):
                raise ValueError("url must not contain the password: it is taken from the Secret (PGPASSWORD)")
        elif self.url:
            raise ValueError("url is only for mode = 'external'")
        return self


class VCenter(_Strict):
    name: str = Field(pattern=DNS_LABEL, max_length=40)  # part of resource names
    host: str = Field(min_length=1)
    port: int = Field(default=443, ge=1, le=65535)
    user: str = Field(min_length=1)
    password_env: str = Field(pattern=ENV_NAME)
    verify_tls: bool = True
    ca_pem: str | None = None  # the vCenter's CA certificate(s), PEM; mounted as its ca_bundle
    timeout_s: float | None = Field(default=None, gt=0)
    linked_mode_group: str | None = None
    schedule: str | None = None  # this vCenter's collect schedule, when not schedules.collect


class Values(_Strict):
    name: str = Field(default="vcreport", pattern=DNS_LABEL, max_length=20)
    namespace: str = Field(default="vcreport", pattern=DNS_LABEL)
    create_namespace: bool = True
    image: str = Field(min_length=1)
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] = "IfNotPresent"
    timezone: str = "Etc/UTC"  # IANA name: CronJob schedules and report times
    keep_snapshot_days: int = Field(default=60, ge=1)
    run_as_user: int = Field(default=10001, ge=1)  # the image's vcreport user
    schedules: Schedules = Schedules()
    storage: Storage = Storage()
    postgres: Postgres = Postgres()
    resources: ResourceSet = ResourceSet()
    report_args: list[str] = Field(default_factory=list)  # extra `vcreport report` options
    config: dict[str, Any] = Field(default_factory=dict)
    vcenter: list[VCenter] = Field(min_length=1)

    @field_validator("config")
    @classmethod
    def _site_sections_only(cls, v: dict[str, Any]) -> dict[str, Any]:
        owned = sorted({"vcenter", "history", "schedule"} & v.keys())
        if owned:
            raise ValueError(f"[config] must not set {', '.join(owned)}: the renderer writes them "
                             "(vCenters from [[vcenter]], history from [postgres], schedules from [schedules])")
        email = v.get("email")
        if isinstance(email, dict) and email.get("password_file"):
            raise ValueError("[config.email] use password_env (filled from the SMTP Secret), not password_file")
        return v

    @model_validator(mode="after")
    def _unique(self) -> Values:
        for what, items in (("vcenter name", [v.name for v in self.vcenter]),
                            ("password_env", [v.password_env for v in self.vcenter])):
            dup = sorted({i for i in items if items.count(i) > 1})
            if dup:
                raise ValueError(f"duplicate {what}(s): {', '.join(dup)}")
        return self


class DeployError(Exception):
    """Bad values: one line for the operator."""


def _format_validation(exc: ValidationError, source: str) -> str:
    first = exc.errors()[0]
    key = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in first["loc"]).replace(".[", "[")
    msg = "unknown key" if first["type"] == "extra_forbidden" else str(first["msg"]).removeprefix("Value error, ")
    return f"{source}: {key or '<top>'}: {msg}"


def load_values(path: Path) -> Values:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DeployError(f"{path}: no such values file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DeployError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise DeployError(f"{path}: invalid TOML: {exc}") from None
    return parse_values(data, str(path))


def parse_values(data: dict[str, Any], source: str = "<values>") -> Values:
    try:
        return Values.model_validate(data)
    except ValidationError as exc:
        raise DeployError(_format_validation(exc, source)) from None


def history_url(values: Values) -> str:
    pg = values.postgres
    if pg.mode == "external":
        assert pg.url is not None  # checked by Postgres._url_matches_mode
        return pg.url
    # No password in the URL: libpq takes it from PGPASSWORD, set from the Secret.
    return f"postgresql+psycopg2://{pg.user}@{values.name}-postgres:5432/{pg.database}"


def _vcenter_table(vc: VCenter) -> dict[str, Any]:
    table: dict[str, Any] = {"name": vc.name, "host": vc.host, "port": vc.port, "user": vc.user,
                             "password_env": vc.password_env, "verify_tls": vc.verify_tls}
    if vc.ca_pem:
        table["ca_bundle"] = f"{CONFIG_DIR}/{vc.name}-ca.pem"
    if vc.timeout_s is not None:
        table["timeout_s"] = vc.timeout_s
    if vc.linked_mode_group:
        table["linked_mode_group"] = vc.linked_mode_group
    return table


def site_config(values: Values, vcenters: list[VCenter], *, with_history: bool = True) -> dict[str, Any]:
    cfg: dict[str, Any] = copy.deepcopy(values.config)
    cfg.setdefault("output", {})["dir"] = f"{DATA_DIR}/reports"
    cfg["vcenter"] = [_vcenter_table(vc) for vc in vcenters]
    if with_history:
        cfg["history"] = {"url": history_url(values)}
    return cfg


def config_files(values: Values) -> dict[str, str]:
    """ConfigMap entries: vcreport.toml (every vCenter) and <vc>.toml per vCenter, each checked
    with vcreport's own parser, plus <vc>-ca.pem where given."""
    from reporter.api import parse_config
    from reporter.errors import ConfigError

    configs = {"vcreport.toml": site_config(values, values.vcenter)}
    for vc in values.vcenter:
        # A vCenter in a Linked Mode group shares its vRAM pool with the others: a collect of
        # that one vCenter would record a partial pool, so only the all-vCenter jobs record it.
        configs[f"{vc.name}.toml"] = site_config(values, [vc], with_history=not vc.linked_mode_group)
    files: dict[str, str] = {}
    for name, cfg in configs.items():
        text = tomli_w.dumps(cfg)
        try:
            parse_config(tomllib.loads(text), f"[config] as {name}")
        except ConfigError as exc:
            raise DeployError(str(exc)) from None
        files[name] = text
    for vc in values.vcenter:
        if vc.ca_pem:
            files[f"{vc.name}-ca.pem"] = vc.ca_pem.strip() + "\n"
    return files


def _quote(value: Any) -> str:
    """A YAML scalar for any string (JSON strings are valid YAML)."""
    return json.dumps(value, ensure_ascii=False)


def _block(text: str, indent: int) -> str:
    """A literal block scalar body, indented; the template writes the ``|`` before it."""
    pad = " " * indent
    return "\n".join(pad + line if line else "" for line in text.rstrip("\n").split("\n"))


def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True, autoescape=False)
    env.filters["q"] = _quote
    env.filters["block"] = _block
    return env


def render(values: Values, *, with_secrets: bool = True) -> dict[str, str]:
    """File name -> manifest YAML (one or more documents)."""
    smtp_env = None
    email = values.config.get("email")
    if isinstance(email, dict) and email.get("password_env"):
        smtp_env = str(email["password_env"])
    ctx = {
        "v": values, "files": config_files(values), "history_url": history_url(values),
        "smtp_env": smtp_env, "placeholder": SECRET_PLACEHOLDER, "config_dir": CONFIG_DIR, "data_dir": DATA_DIR,
    }
    env = environment()
    out: dict[str, str] = {}
    for filename, template in OUTPUTS.items():
        if filename == "10-secrets.yaml" and not with_secrets:
            continue
        if filename == "00-namespace.yaml" and not values.create_namespace:
            continue
        text = env.get_template(template).render(**ctx)
        if not any(doc for doc in yaml.safe_load_all(text)):
            continue  # e.g. postgres.yaml with an external database
        out[filename] = text
    return out


def documents(manifests: dict[str, str]) -> list[dict[str, Any]]:
    return [doc for text in manifests.values() for doc in yaml.safe_load_all(text) if doc]


def validate(docs: list[dict[str, Any]], version: str = KUBERNETES_VERSION) -> list[str]:
    """Problems found by the Kubernetes JSON schemas (strict: unknown fields are errors)."""
    import kubernetes_validate

    problems = []
    for doc in docs:
        label = f"{doc.get('kind')}/{(doc.get('metadata') or {}).get('name')}"
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path)
            problems.append(f"{label}: {path}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            problems.append(f"{label}: {exc.message}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("values", type=Path, help="values file (TOML), e.g. deploy/values.example.toml")
    parser.add_argument("--out", type=Path, help="directory for the manifests (default: print them)")
    parser.add_argument("--no-secrets", action="store_true", help="leave out the Secrets (created another way)")
    parser.add_argument("--validate", action="store_true",
                        help=f"check every manifest against the Kubernetes {KUBERNETES_VERSION} schemas")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))  # reporter.config, when run from a source checkout
    try:
        manifests = render(load_values(args.values), with_secrets=not args.no_secrets)
    except DeployError as exc:
        print(f"render_deploy: {exc}", file=sys.stderr)
        return 2
    if args.validate:
        problems = validate(documents(manifests))
        for p in problems:
            print(f"render_deploy: invalid manifest: {p}", file=sys.stderr)
        if problems:
            return 1
    if args.out is None:
        sys.stdout.write("---\n".join(manifests.values()))
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for filename, text in manifests.items():
        (args.out / filename).write_text(text, encoding="utf-8")
    print(f"wrote {len(manifests)} file(s) to {args.out}: {', '.join(manifests)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
