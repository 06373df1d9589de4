"""Connection failures: each becomes one clear line, never a traceback or a password.

A failed vCenter is a ``CollectionError`` (stage ``connect``) and the others are still
collected; when every vCenter fails the run raises ``ConnectionFailed``.
"""

from __future__ import annotations

import socket
import time

import pytest
from vcsim_harness import toml_table

from reporter.api import load_config
from reporter.collect import collect
from reporter.errors import ConfigError, ConnectionFailed

pytestmark = pytest.mark.vcsim


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def only_error(cfg) -> str:
    with pytest.raises(ConnectionFailed) as info:
        collect(cfg, progress=False)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_wrong_password(vcsim, tmp_path):
    cfg = load_config(vcsim.config_file(tmp_path, password="not-the-password"))
    message = only_error(cfg)
    assert message == (
        f"no vCenter could be collected: vcsim (127.0.0.1:{vcsim.port}): "
        "login failed for user 'readonly@vsphere.local': wrong user name or password")
    assert "not-the-password" not in message and vcsim.password not in message


def test_refused_port(vcsim, tmp_path):
    port = closed_port()
    cfg = load_config(vcsim.config_file(tmp_path, port=port))
    assert only_error(cfg) == (
        f"no vCenter could be collected: vcsim (127.0.0.1:{port}): "
        "connection refused (is the port right and vCenter up?)")


def test_unresolvable_host(vcsim, tmp_path):
    cfg = load_config(vcsim.config_file(tmp_path, host="vcsim.invalid"))
    message = only_error(cfg)
    assert message.startswith(
        f"no vCenter could be collected: vcsim (vcsim.invalid:{vcsim.port}): cannot resolve host name 'vcsim.invalid'")


def test_server_that_never_answers_times_out(vcsim, tmp_path):
    with socket.socket() as silent:  # accepts TCP connections (backlog) but never speaks TLS
        silent.bind(("127.0.0.1", 0))
        silent.listen(5)
        port = silent.getsockname()[1]
        cfg = load_config(vcsim.config_file(tmp_path, port=port, timeout_s=1))
        started = time.monotonic()
        message = only_error(cfg)
        took = time.monotonic() - started
    assert message == f"no vCenter could be collected: vcsim (127.0.0.1:{port}): no answer within 1 s during connect"
    assert took < 10
    assert socket.getdefaulttimeout() is None  # the probe's timeout did not leak into the process


def test_untrusted_certificate_fails_by_default(vcsim, tmp_path):
    # No ca_bundle: the system trust store does not know the simulator's CA.
    cfg = load_config(vcsim.config_file(tmp_path, ca_bundle=None))
    assert only_error(cfg) == (
        f"no vCenter could be collected: vcsim (127.0.0.1:{vcsim.port}): certificate verify failed: "
        "unable to get local issuer certificate — set ca_bundle or verify_tls = false")


def test_self_signed_builtin_certificate_fails_by_default(vcsim_factory, tmp_path):
    sim = vcsim_factory(vms=2, custom_cert=False)  # vcsim's own self-signed certificate
    cfg = load_config(sim.config_file(tmp_path))
    message = only_error(cfg)
    assert message.startswith(f"no vCenter could be collected: vcsim (127.0.0.1:{sim.port}): certificate verify failed: ")
    assert message.endswith(" — set ca_bundle or verify_tls = false")
    ok = collect(load_config(sim.config_file(tmp_path, verify_tls=False)), progress=False)
    assert ok.collection_errors == [] and ok.vm_count() == 2


def test_untrusted_certificate_with_verify_tls_false_or_insecure(vcsim, tmp_path):
    off = collect(load_config(vcsim.config_file(tmp_path, ca_bundle=None, verify_tls=False)), progress=False)
    assert off.collection_errors == [] and off.vm_count() == 8
    insecure = collect(load_config(vcsim.config_file(tmp_path, ca_bundle=None)), insecure=True, progress=False)
    assert insecure.collection_errors == [] and insecure.vm_count() == 8


def test_unreadable_ca_bundle(vcsim, tmp_path):
    missing = tmp_path / "nope.pem"
    cfg = load_config(vcsim.config_file(tmp_path, ca_bundle=str(missing)))
    assert only_error(cfg) == (
        f"no vCenter could be collected: vcsim (127.0.0.1:{vcsim.port}): "
        f"cannot load ca_bundle {missing}: No such file or directory")


def test_one_of_two_vcenters_down_gives_a_partial_snapshot(vcsim, tmp_path):
    port = closed_port()
    text = toml_table("[[vcenter]]", vcsim.vcenter_table(name="vc-up"))
    text += "\n" + toml_table("[[vcenter]]", vcsim.vcenter_table(name="vc-down", port=port))
    path = tmp_path / "two.toml"
    path.write_text(text)
    snap = collect(load_config(path), progress=False)
    (vc,) = snap.vcenters.values()
    assert vc.name == "vc-up" and len(vc.vms) == 8 and len(vc.hosts) == 4
    assert [(e.vcenter, e.stage, e.error_type, e.message) for e in snap.collection_errors] == [
        ("vc-down", "connect", "ConnectionRefused",
         f"vc-down (127.0.0.1:{port}): connection refused (is the port right and vCenter up?)")]
    assert snap.complete is False


def test_two_vcenters_both_collected(vcsim, vcsim_factory, tmp_path):
    other = vcsim_factory(vms=2, hosts=1, standalone=0)
    text = toml_table("[[vcenter]]", vcsim.vcenter_table(name="vc01"))
    text += "\n" + toml_table("[[vcenter]]", other.vcenter_table(name="vc02"))
    path = tmp_path / "two.toml"
    path.write_text(text)
    snap = collect(load_config(path), progress=False)
    assert snap.collection_errors == []
    by_name = {vc.name: vc for vc in snap.vcenters.values()}
    assert sorted(by_name) == ["vc01", "vc02"]
    assert (len(by_name["vc01"].vms), len(by_name["vc02"].vms)) == (8, 2)
    assert by_name["vc01"].instance_uuid != by_name["vc02"].instance_uuid


def test_same_vcenter_twice_is_reported_not_merged(vcsim, tmp_path):
    text = toml_table("[[vcenter]]", vcsim.vcenter_table(name="a"))
    text += "\n" + toml_table("[[vcenter]]", vcsim.vcenter_table(name="b"))
    path = tmp_path / "dup.toml"
    path.write_text(text)
    snap = collect(load_config(path), progress=False)
    assert [vc.name for vc in snap.vcenters.values()] == ["a"]
    (err,) = snap.collection_errors
    assert (err.vcenter, err.stage, err.error_type) == ("b", "connect", "DuplicateVCenter")


def test_missing_password_variable_is_a_config_error(vcsim, tmp_path, monkeypatch):
    cfg = load_config(vcsim.config_file(tmp_path, password_env="VCSIM_UNSET_PASSWORD_VAR"))
    monkeypatch.delenv("VCSIM_UNSET_PASSWORD_VAR", raising=False)
    with pytest.raises(ConfigError, match="environment variable VCSIM_UNSET_PASSWORD_VAR is not set"):
        collect(cfg, progress=False)


def test_no_vcenter_configured(tmp_path):
    path = tmp_path / "empty.toml"
    path.write_text('[output]\ndir = "out"\n')
    with pytest.raises(ConfigError, match="no \\[\\[vcenter\\]\\] configured"):
        collect(load_config(path), progress=False)
