"""The README documents every CLI command and option (sqlite-utils style: docs are tested)."""

from __future__ import annotations

from pathlib import Path

import click

from reporter.cli import main

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def leaf_commands(group: click.Group, prefix: str = "vcreport") -> list[tuple[str, click.Command]]:
    out: list[tuple[str, click.Command]] = []
    for name, cmd in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        if isinstance(cmd, click.Group):
            out.extend(leaf_commands(cmd, path))
        else:
            out.append((path, cmd))
    return out


def test_every_command_is_documented() -> None:
    missing = [path for path, _ in leaf_commands(main) if f"`{path}" not in README]
    assert not missing, f"commands not in README.md: {missing}"


def test_every_option_is_documented() -> None:
    missing = []
    for path, cmd in leaf_commands(main):
        for param in cmd.params:
            if isinstance(param, click.Option):
                longest = max(param.opts, key=len)
                if longest.startswith("--") and longest not in ("--help",) and longest not in README:
                    missing.append(f"{path} {longest}")
    assert not missing, f"options not in README.md: {missing}"


def test_readme_opens_with_the_two_commands() -> None:
    blocks = README.split("```bash")[1:3]
    first, second = (b.split("```", 1)[0].strip() for b in blocks)
    assert first == "pip install . && vcreport demo --out demo-report"
    assert second == "bash scripts/test.sh"
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()
    assert "bash scripts/test.sh" in ci


def test_readme_toml_examples_are_valid_config() -> None:
    import tomllib

    from reporter.api import parse_config
    from reporter.domain.licensing.plan import Scenario

    blocks = [b.split("```", 1)[0] for b in README.split("```toml")[1:]]
    assert len(blocks) >= 4
    scenarios = [b for b in blocks if b.lstrip().startswith("# scenario")]
    assert scenarios, "the README documents the plan scenario file"
    for block in blocks:
        if block in scenarios:
            Scenario.model_validate(tomllib.loads(block))  # every documented key exists, values valid
        else:
            parse_config(tomllib.loads(block), "README.md")  # raises ConfigError naming the key


def test_readme_scenario_documents_every_scenario_key() -> None:
    from reporter.domain.licensing.plan import AddVms, Scenario

    block = next(b.split("```", 1)[0] for b in README.split("```toml")[1:] if b.lstrip().startswith("# scenario"))
    keys = {line.split("=")[0].strip("# ").strip() for line in block.splitlines() if "=" in line}
    keys |= {line.split("]]")[0].strip("[ ") for line in block.splitlines() if line.startswith("[[")}
    assert set(Scenario.model_fields) | set(AddVms.model_fields) <= keys
