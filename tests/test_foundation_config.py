"""Config contract: strict keys, password sources by reference, clear one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from reporter.api import load_config
from reporter.errors import ConfigError

GOOD = """
[[vcenter]]
name = "vc01"
host = "vc01.example.com"
user = "readonly@vsphere.local"
password_env = "VC01_PASSWORD"
ca_bundle = "certs/vc-ca.pem"

[output]
dir = "reports"
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "vcreport.toml"
    p.write_text(text)
    return p


def test_good_config_defaults(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, GOOD))
    vc = cfg.vcenter[0]
    assert (vc.port, vc.verify_tls, vc.timeout_s) == (443, True, 60)
    assert vc.ca_bundle == tmp_path / "certs/vc-ca.pem"  # relative to the config file
    assert cfg.output.dir == tmp_path / "reports"


@pytest.mark.parametrize("text,expected", [
    ("bogus = 1\n" + GOOD, "vcreport.toml: bogus: unknown key"),
    (GOOD.replace('user = "readonly@vsphere.local"', 'user = "x"\nuser_name = "y"'), "vcenter[0].user_name: unknown key"),
    (GOOD.replace('password_env = "VC01_PASSWORD"', ""), "vcenter[0]: missing password source"),
    (GOOD.replace("name = \"vc01\"", "name = 5"), "vcenter[0].name: Input should be a valid string"),
    (GOOD.replace('host = "vc01.example.com"', 'host = "h"\nport = "https"'), "vcenter[0].port: Input should be a valid integer"),
    (GOOD.replace('host = "vc01.example.com"', 'host = "h"\nverify_tls = "no"'), "vcenter[0].verify_tls: Input should be a valid boolean"),
    (GOOD + '[thresholds.nosuchfamily]\nx = 1\n', "thresholds.nosuchfamily: unknown check family"),
    (GOOD + '[[waiver]]\ncheck_id = "GEN-001"\nreason = "r"\n', "waiver[0].expires: required key is missing"),
    ("[[vcenter]\n", "invalid TOML"),
])
def test_bad_config_names_key_and_file(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as exc:
        load_config(write(tmp_path, text))
    assert expected in str(exc.value)
    assert str(tmp_path / "vcreport.toml") in str(exc.value)


def test_cli_config_check_exit_codes(tmp_path: Path) -> None:
    good = write(tmp_path, GOOD)
    ok = subprocess.run([sys.executable, "-m", "reporter.cli", "config", "check", str(good)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "OK (1 vCenter(s)" in ok.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text(GOOD + "\nbogus = 1\n")  # lands in [output]
    res = subprocess.run([sys.executable, "-m", "reporter.cli", "config", "check", str(bad)], capture_output=True, text=True)
    assert res.returncode == 2
    assert res.stderr.strip() == f"vcreport: error: {bad}: output.bogus: unknown key"
    assert "Traceback" not in res.stderr


def test_password_never_inline(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, GOOD.replace('password_env = "VC01_PASSWORD"', 'password = "hunter2"')))
    # The message says where the password goes instead, and never repeats it.
    assert str(err.value).endswith("vcenter[0].password: unknown key: a password is not written in the config;"
                                   " set password_env (the name of an environment variable) or password_file")
    assert "hunter2" not in str(err.value)


def test_password_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = load_config(write(tmp_path, GOOD))
    monkeypatch.delenv("VC01_PASSWORD", raising=False)
    with pytest.raises(ConfigError, match="environment variable VC01_PASSWORD is not set"):
        cfg.vcenter[0].resolve_password("vc01")
    monkeypatch.setenv("VC01_PASSWORD", "s3cret")
    assert cfg.vcenter[0].resolve_password("vc01") == "s3cret"
    (tmp_path / "pw").write_text("from-file\n")
    cfg2 = load_config(write(tmp_path, GOOD.replace('password_env = "VC01_PASSWORD"', 'password_file = "pw"')))
    assert cfg2.vcenter[0].resolve_password("vc01") == "from-file"


def test_sample_config_is_valid() -> None:
    cfg = load_config(Path(__file__).resolve().parent.parent / "samples" / "sample-config.toml")
    assert [v.name for v in cfg.vcenter] == ["vc01", "vc02"]
    assert cfg.waiver[0].check_id == "GEN-001"
