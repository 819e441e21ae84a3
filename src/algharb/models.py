"""Model entries of the config: ``{path: local}`` or ``{hub: owner/name}``."""

from __future__ import annotations

from pathlib import Path


def model_reference(spec: dict) -> str:
    """The ``path`` (which must exist) or ``hub`` id of a config model entry."""
    if "path" in spec:
        if not Path(spec["path"]).exists():
            raise FileNotFoundError(f"model path {spec['path']!r} does not exist")
        return str(spec["path"])
    if "hub" in spec:
        return str(spec["hub"])
    raise ValueError(f"model entry {spec} needs 'path' or 'hub'")
