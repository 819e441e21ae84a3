"""Run manifests for reproducibility audits, and their comparison.

Every successful workflow run writes ``results/manifest.json``:

- ``git``: the commit of the workflow and whether the tree had uncommitted changes;
- ``config``: the resolved config and its SHA-256 (of canonical JSON);
- ``packages``: the version of every installed Python distribution;
- ``inputs``: SHA-256 of every file the config declares outside ``results/``
  (corpora, test sets, local models; a directory is hashed file by file);
- ``outputs``: SHA-256 and size of every file under ``results/``, except the
  manifest itself, ``results/benchmarks/`` (wall-clock timings, which no
  two runs share) and ``results/cache/`` (resumable chunks of generation steps,
  stamped with their model files' times; what they hold is in the outputs).

``algharb audit A.json B.json`` lists every difference between two manifests.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable

MANIFEST = "results/manifest.json"
# Timings differ between any two runs; they are not results. Nor are the caches that let
# a killed step resume (their chunks record the model files' mtimes).
UNHASHED = ("results/benchmarks/", "results/cache/")
# Files left out wherever they are: the record of which run wrote a training checkpoint folder
# (algharb.train.common.RUN_IDENTITY) holds the starting model's file mtimes.
UNHASHED_NAMES = ("run_identity.json",)
_CHUNK = 1 << 20


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def config_sha256(config: dict) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()


def tree_checksums(root: str | os.PathLike, label: str = "results",
                   skip: Iterable[str] = (), skip_names: Iterable[str] = ()) -> dict[str, dict[str, Any]]:
    """``{label/relative path: {sha256, bytes}}`` for every file below ``root`` (sorted).

    Names do not depend on where ``root`` is, so runs in two folders compare.
    ``skip`` holds names or folder prefixes (ending in "/") to leave out;
    ``skip_names`` file names left out in every folder.
    """
    root = Path(root)
    skip, skip_names = tuple(skip), frozenset(skip_names)
    found = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        name = f"{label}/{path.relative_to(root).as_posix()}"
        if path.name in skip_names or any(
                name == prefix or (prefix.endswith("/") and name.startswith(prefix)) for prefix in skip):
            continue
        found[name] = {"sha256": file_sha256(path), "bytes": path.stat().st_size}
    return found


def input_checksums(paths: Iterable[tuple[str, str]]) -> dict[str, dict[str, Any]]:
    """Checksums of declared inputs ``(config key, path)``; generated ones (under results/) are outputs."""
    found = {}
    for key, path in paths:
        path = Path(path)
        if path.as_posix().startswith("results/") or not path.exists():
            continue
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for file in files:
            found[file.as_posix()] = {"key": key, "sha256": file_sha256(file), "bytes": file.stat().st_size}
    return found


def git_state(workdir: str | os.PathLike) -> dict[str, Any]:
    """Commit and dirtiness of the git checkout at ``workdir`` (``None`` outside git)."""
    def git(*args: str) -> str | None:
        try:
            result = subprocess.run(["git", "-C", str(workdir), *args], capture_output=True, text=True, check=True)
        except (OSError, subprocess.CalledProcessError):
            return None
        return result.stdout.strip()

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def package_versions() -> dict[str, str]:
    versions = {}
    for dist in metadata.distributions():
        name = dist.metadata.get("Name")
        if name:
            versions[name.lower()] = dist.version
    return dict(sorted(versions.items()))


def build_manifest(config: dict, workflow_dir: str | os.PathLike, results_dir: str | os.PathLike = "results",
                   config_files: Iterable[str] = ()) -> dict[str, Any]:
    """Everything an audit needs about one run (see the module docstring)."""
    from algharb.config import declared_paths

    return {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "git": git_state(workflow_dir),
        "config_files": [str(path) for path in config_files],
        "config_sha256": config_sha256(config),
        "config": config,
        "packages": package_versions(),
        "inputs": input_checksums(declared_paths(config)),
        "outputs": tree_checksums(results_dir, skip=[MANIFEST, *UNHASHED], skip_names=UNHASHED_NAMES),
    }


def write_manifest(path: str | os.PathLike, manifest: dict[str, Any]) -> None:
    from algharb.io import atomic_write

    with atomic_write(path) as handle:
        json.dump(manifest, handle, indent=1, sort_keys=True, default=str)
        handle.write("\n")


# What an audit compares; "created" always differs and says nothing.
_SECTIONS = ("git", "config_sha256", "packages", "inputs", "outputs")


def compare_manifests(first: dict[str, Any], second: dict[str, Any]) -> list[dict[str, Any]]:
    """Differences between two manifests: ``{section, key, first, second}`` rows, sorted.

    Files present in only one manifest show ``None`` on the other side.
    Configs are compared key by key (dotted paths) when their hashes differ.
    """
    rows = []
    for section in _SECTIONS:
        a, b = first.get(section), second.get(section)
        if section == "config_sha256":
            if a != b:
                rows += [{"section": "config", **row} for row in _dict_differences(first.get("config", {}),
                                                                                   second.get("config", {}))]
            continue
        if not isinstance(a, dict) or not isinstance(b, dict):
            if a != b:
                rows.append({"section": section, "key": "", "first": a, "second": b})
            continue
        for key in sorted(set(a) | set(b)):
            left, right = _comparable(section, a.get(key)), _comparable(section, b.get(key))
            if left != right:
                rows.append({"section": section, "key": key, "first": left, "second": right})
    return rows


def _comparable(section: str, value):
    """Files are equal when their bytes are (the config key an input came from is only a label)."""
    return value.get("sha256") if section in ("inputs", "outputs") and isinstance(value, dict) else value


def _dict_differences(a: Any, b: Any, prefix: str = "") -> list[dict[str, Any]]:
    if isinstance(a, dict) and isinstance(b, dict):
        rows = []
        for key in sorted(set(a) | set(b), key=str):
            rows += _dict_differences(a.get(key), b.get(key), f"{prefix}.{key}" if prefix else str(key))
        return rows
    return [] if a == b else [{"key": prefix, "first": a, "second": b}]


def read_manifest(path: str | os.PathLike) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not a manifest (invalid JSON at line {err.lineno})") from None
