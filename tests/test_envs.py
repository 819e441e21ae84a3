"""The conda environments pin exactly what pyproject.toml pins."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def pins(requirements):
    return dict(re.match(r"([A-Za-z0-9_.-]+)==(\S+)", r).groups() for r in requirements if "==" in r)


def test_every_project_pin_is_in_the_workflow_environment():
    metadata = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    project = metadata["dependencies"] + metadata["optional-dependencies"]["gpu"]
    assert all("==" in r for r in project), "every dependency is pinned"
    env = yaml.safe_load((ROOT / "envs" / "algharb.yaml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pins(pip) == pins(project)
