"""deploy/: the manifests rendered by scripts/render_deploy.py for a 3-vCenter site validate
against the Kubernetes JSON schemas (kubernetes-validate, offline, strict: unknown fields are
errors), carry what the site needs (per-vCenter collect, merged report, vRAM sample, Secrets,
ConfigMap, PVC, PostgreSQL), and the collect job's shell script keeps latest.json.gz right."""

from __future__ import annotations

import copy
import importlib.util
import os
import stat
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from reporter.api import parse_config

ROOT = Path(__file__).resolve().parent.parent
VALUES = ROOT / "deploy" / "values.example.toml"


def _load_renderer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("render_deploy", ROOT / "scripts" / "render_deploy.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["render_deploy"] = module  # pydantic resolves the models' annotations through it
    spec.loader.exec_module(module)
    return module


rd = _load_renderer()


def example_values() -> dict[str, Any]:
    return tomllib.loads(VALUES.read_text(encoding="utf-8"))


def render_docs(data: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = rd.documents(rd.render(rd.parse_values(data or example_values())))
    return docs


def by_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def container(cronjob: dict[str, Any]) -> dict[str, Any]:
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    return dict(c)


def secret_refs(c: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {e["name"]: (e["valueFrom"]["secretKeyRef"]["name"], e["valueFrom"]["secretKeyRef"]["key"])
            for e in c["env"] if "valueFrom" in e}


# -- schema validation ----------------------------------------------------------------------

def test_every_manifest_validates_against_the_kubernetes_schemas() -> None:
    docs = render_docs()
    assert sorted((d["kind"], d["metadata"]["name"]) for d in docs) == [
        ("ConfigMap", "vcreport-config"),
        ("CronJob", "vcreport-collect-vc01"), ("CronJob", "vcreport-collect-vc02"),
        ("CronJob", "vcreport-collect-vc03"), ("CronJob", "vcreport-report"), ("CronJob", "vcreport-vram-sample"),
        ("Namespace", "vcreport"), ("PersistentVolumeClaim", "vcreport-data"),
        ("Secret", "vcreport-postgres"), ("Secret", "vcreport-smtp"), ("Secret", "vcreport-vc-vc01"),
        ("Secret", "vcreport-vc-vc02"), ("Secret", "vcreport-vc-vc03"),
        ("Service", "vcreport-postgres"), ("StatefulSet", "vcreport-postgres"),
    ]
    assert rd.validate(docs) == []


def _break(path: list[str | int], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(by_kind(render_docs(), "CronJob")["vcreport-collect-vc01"])
    node: Any = doc
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return doc


POD = ["spec", "jobTemplate", "spec", "template", "spec"]


@pytest.mark.parametrize("path,value,expected", [
    (POD + ["restartPolicyy"], "Never", "Additional properties are not allowed ('restartPolicyy' was unexpected)"),
    (["spec", "jobTemplate", "spec", "backoffLimit"], "none", "spec.jobTemplate.spec.backoffLimit: 'none' is not of type"),
    (POD + ["containers"], KeyError, "'containers' is a required property"),
    (POD + ["containers", 0, "resources", "limits"], ["1Gi"], "spec.jobTemplate.spec.template.spec.containers.0.resources.limits"),
])
def test_a_broken_manifest_fails_validation(path: list[str | int], value: Any, expected: str) -> None:
    problems = rd.validate([_break(path, value)])
    assert len(problems) == 1
    assert problems[0].startswith("CronJob/vcreport-collect-vc01: ")
    assert expected in problems[0]


def test_an_unknown_kind_is_a_problem_not_a_pass() -> None:
    doc = {"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": "g"}}
    assert rd.validate([doc]) == [
        "Gadget/g: Couldn't find schema for kind Gadget with api version example.com/v1 for kubernetes version 1.37"]


def test_cli_validates_and_writes_the_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert rd.main([str(VALUES), "--out", str(tmp_path), "--validate"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "00-namespace.yaml", "10-secrets.yaml", "20-config.yaml", "30-storage.yaml", "40-postgres.yaml",
        "50-cronjobs.yaml"]
    assert "wrote 6 file(s)" in capsys.readouterr().out
    assert rd.main([str(VALUES), "--out", str(tmp_path / "b"), "--no-secrets"]) == 0
    assert not (tmp_path / "b" / "10-secrets.yaml").exists()


# -- what the site needs ------------------------------------------------------------------------

def test_cronjobs_are_forbid_non_root_read_only_and_sized() -> None:
    cronjobs = by_kind(render_docs(), "CronJob")
    for name, cj in cronjobs.items():
        assert cj["spec"]["concurrencyPolicy"] == "Forbid", name
        assert cj["spec"]["timeZone"] == "Europe/Berlin"
        pod = cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 10001
        c = container(cj)
        assert c["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                        "capabilities": {"drop": ["ALL"]}}
        assert {m["mountPath"] for m in c["volumeMounts"]} == {"/etc/vcreport", "/data", "/tmp"}
        assert {"TZ", "HOME"} <= {e["name"] for e in c["env"]}
    assert container(cronjobs["vcreport-collect-vc01"])["resources"] == {
        "requests": {"cpu": "250m", "memory": "384Mi"}, "limits": {"cpu": "1", "memory": "768Mi"}}
    assert container(cronjobs["vcreport-report"])["resources"]["limits"] == {"cpu": "2", "memory": "1536Mi"}
    schedules = {n: cj["spec"]["schedule"] for n, cj in cronjobs.items()}
    assert schedules == {"vcreport-collect-vc01": "0 5 * * 1", "vcreport-collect-vc02": "30 4 * * 1",
                         "vcreport-collect-vc03": "0 5 * * 1", "vcreport-report": "0 6 * * 1",
                         "vcreport-vram-sample": "*/15 * * * *"}


def test_each_job_gets_only_the_secrets_it_uses() -> None:
    docs = render_docs()
    cronjobs, secrets = by_kind(docs, "CronJob"), by_kind(docs, "Secret")
    pg = ("vcreport-postgres", "password")
    assert secret_refs(container(cronjobs["vcreport-collect-vc02"])) == {
        "VC02_PASSWORD": ("vcreport-vc-vc02", "VC02_PASSWORD"), "PGPASSWORD": pg}
    assert secret_refs(container(cronjobs["vcreport-report"])) == {
        "PGPASSWORD": pg, "SMTP_PASSWORD": ("vcreport-smtp", "SMTP_PASSWORD")}
    assert secret_refs(container(cronjobs["vcreport-vram-sample"])) == {
        "VC01_PASSWORD": ("vcreport-vc-vc01", "VC01_PASSWORD"), "VC02_PASSWORD": ("vcreport-vc-vc02", "VC02_PASSWORD"),
        "VC03_PASSWORD": ("vcreport-vc-vc03", "VC03_PASSWORD"), "PGPASSWORD": pg}
    # every referenced key exists in its Secret; placeholders only, never a real value
    for cj in cronjobs.values():
        for secret, key in secret_refs(container(cj)).values():
            assert secrets[secret]["stringData"][key] == "REPLACE-ME"


def test_configmap_holds_valid_vcreport_configs() -> None:
    cm = by_kind(render_docs(), "ConfigMap")["vcreport-config"]
    assert sorted(cm["data"]) == ["vc01.toml", "vc02.toml", "vc03-ca.pem", "vc03.toml", "vcreport.toml"]
    full = parse_config(tomllib.loads(cm["data"]["vcreport.toml"]))
    assert [v.name for v in full.vcenter] == ["vc01", "vc02", "vc03"]
    assert full.history is not None
    assert full.history.url == "postgresql+psycopg2://vcreport@vcreport-postgres:5432/vcreport"
    assert full.email is not None and full.email.password_env == "SMTP_PASSWORD"
    assert [w.check_id for w in full.waiver] == ["GEN-001"]
    vc03 = parse_config(tomllib.loads(cm["data"]["vc03.toml"]))
    assert [(v.name, v.port, str(v.ca_bundle)) for v in vc03.vcenter] == [("vc03", 8443, "/etc/vcreport/vc03-ca.pem")]
    assert cm["data"]["vc03-ca.pem"].startswith("-----BEGIN CERTIFICATE-----\n")


def test_report_merges_every_latest_snapshot_and_collect_writes_per_vcenter() -> None:
    cronjobs = by_kind(render_docs(), "CronJob")
    assert container(cronjobs["vcreport-report"])["args"] == [
        "report", "/data/snapshots/vc01/latest.json.gz", "/data/snapshots/vc02/latest.json.gz",
        "/data/snapshots/vc03/latest.json.gz", "--config", "/etc/vcreport/vcreport.toml", "--out", "/data/reports"]
    assert container(cronjobs["vcreport-vram-sample"])["args"] == [
        "vram", "sample", "--config", "/etc/vcreport/vcreport.toml"]
    script = container(cronjobs["vcreport-collect-vc01"])["args"][0]
    assert "vcreport collect --config /etc/vcreport/vc01.toml --out \"$dir/$name\"" in script
    assert "dir=/data/snapshots/vc01\n" in script


def test_postgres_statefulset_and_the_data_volume() -> None:
    docs = render_docs()
    sts = by_kind(docs, "StatefulSet")["vcreport-postgres"]
    (c,) = sts["spec"]["template"]["spec"]["containers"]
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert sts["spec"]["template"]["spec"]["securityContext"]["runAsUser"] == 999
    assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "10Gi"
    pvc = by_kind(docs, "PersistentVolumeClaim")["vcreport-data"]
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]


def test_external_postgres_and_a_linked_mode_vcenter() -> None:
    data = example_values()
    data["postgres"] = {"mode": "external", "url": "postgresql+psycopg2://vcreport@db.corp.example:5432/vcreport"}
    data["vcenter"][0]["linked_mode_group"] = "emea"
    data["vcenter"][1]["linked_mode_group"] = "emea"
    docs = render_docs(data)
    assert rd.validate(docs) == []
    assert not by_kind(docs, "StatefulSet") and not by_kind(docs, "Service")
    cm = by_kind(docs, "ConfigMap")["vcreport-config"]["data"]
    assert tomllib.loads(cm["vcreport.toml"])["history"]["url"] == "postgresql+psycopg2://vcreport@db.corp.example:5432/vcreport"
    # one vCenter of a Linked Mode group holds only part of the group's vRAM pool: its collect
    # job must not record history (the all-vCenter vRAM sample does)
    assert "history" not in tomllib.loads(cm["vc01.toml"])
    assert "history" in tomllib.loads(cm["vc03.toml"])
    cronjobs = by_kind(docs, "CronJob")
    assert "PGPASSWORD" not in secret_refs(container(cronjobs["vcreport-collect-vc01"]))
    assert "PGPASSWORD" in secret_refs(container(cronjobs["vcreport-collect-vc03"]))


@pytest.mark.parametrize("change,message", [
    (lambda d: d["vcenter"][0].update(name="VC01"), "vcenter[0].name: String should match pattern"),
    (lambda d: d["vcenter"][1].update(password_env="VC01_PASSWORD"), "duplicate password_env(s): VC01_PASSWORD"),
    (lambda d: d.update(colour="blue"), "colour: unknown key"),
    (lambda d: d["config"].update(history={"url": "sqlite:///x.db"}), "[config] must not set history"),
    (lambda d: d.update(postgres={"mode": "external", "url": "postgresql://u:secret@db/x"}),
     "url must not contain the password"),
    (lambda d: d["config"]["thresholds"].update(snapshots={"age_warn_dayz": 3}), "age_warn_dayz"),
    (lambda d: d.pop("vcenter"), "vcenter: Field required"),
])
def test_bad_values_are_one_line(change: Any, message: str) -> None:
    data = example_values()
    change(data)
    with pytest.raises(rd.DeployError) as err:
        rd.render(rd.parse_values(data, "values.toml"))
    assert message in str(err.value)
    assert "\n" not in str(err.value)
    assert "secret" not in str(err.value).replace("Secret", "")


def test_cli_bad_values_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "values.toml"
    bad.write_text('image = "x"\n[[vcenter]]\nname = "vc01"\n', encoding="utf-8")
    assert rd.main([str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"render_deploy: {bad}: vcenter[0].host: Field required")
    assert len(err.splitlines()) == 1


# -- the collect job's shell script, run for real -------------------------------------------------

FAKE_VCREPORT = """#!/bin/sh
# stands in for `vcreport collect --config C --out FILE`: writes FILE unless told to fail first
out=""
while [ $# -gt 0 ]; do [ "$1" = "--out" ] && out="$2"; shift; done
[ "$FAKE_RC" = 1 ] && exit 1
echo snapshot > "$out"
exit "$FAKE_RC"
"""


def _run_collect(script: str, tmp_path: Path, rc: int) -> int:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "vcreport"
    fake.write_text(FAKE_VCREPORT)
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    local = script.replace("/data/", f"{tmp_path}/data/")
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "FAKE_RC": str(rc)}
    return subprocess.run(["/bin/sh", "-c", local], check=False, env=env, timeout=30).returncode


def test_collect_script_points_latest_at_the_new_snapshot_and_prunes(tmp_path: Path) -> None:
    script = container(by_kind(render_docs(), "CronJob")["vcreport-collect-vc01"])["args"][0]
    snaps = tmp_path / "data" / "snapshots" / "vc01"
    latest = snaps / "latest.json.gz"

    assert _run_collect(script, tmp_path, 0) == 0
    (first,) = sorted(snaps.glob("snapshot-*.json.gz"))
    assert latest.is_symlink() and os.readlink(latest) == first.name

    # a failed collect (exit 1) writes nothing and leaves latest alone
    time.sleep(1.1)  # the file name has one-second resolution
    assert _run_collect(script, tmp_path, 1) == 1
    assert os.readlink(latest) == first.name

    # a partial collect (exit 3) wrote its snapshot: latest moves on, the job still fails
    old = snaps / "snapshot-20200101T000000Z.json.gz"
    old.write_text("old")
    os.utime(old, (time.time() - 61 * 86400,) * 2)  # older than keep_snapshot_days = 60
    assert _run_collect(script, tmp_path, 3) == 3
    names = sorted(p.name for p in snaps.glob("snapshot-*.json.gz"))
    assert len(names) == 2 and old.name not in names
    assert os.readlink(latest) == names[-1] != first.name
    assert latest.read_text() == "snapshot\n"
    assert not (snaps / ".latest.tmp").exists()


def test_script_runs_as_a_module_entry_point() -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "render_deploy.py"), str(VALUES), "--no-secrets"],
                          check=False, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("kind: CronJob") == 5
    assert "kind: Secret" not in proc.stdout


def test_report_args_are_appended_to_the_report_command() -> None:
    data = example_values()
    data["report_args"] = ["--format", "html,xlsx"]
    args = container(by_kind(render_docs(data), "CronJob")["vcreport-report"])["args"]
    assert args[-4:] == ["--out", "/data/reports", "--format", "html,xlsx"]
