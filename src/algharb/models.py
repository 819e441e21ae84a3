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


def local_model_dir(spec: dict, filename: str | None = None) -> str:
    """A local path for a model entry, fetching a hub id into the HF cache if needed.

    With ``filename`` a single file of the hub repository is fetched (e.g. the
    fastText LID model's ``model.bin``). On an offline machine the hub id must
    already be in the cache (HF_HUB_OFFLINE=1 is honoured by huggingface_hub).
    """
    if "path" in spec:
        return model_reference(spec)
    from huggingface_hub import hf_hub_download, snapshot_download

    repo = model_reference(spec)
    try:
        if filename:
            return hf_hub_download(repo, filename)
        return snapshot_download(repo)
    except Exception as err:  # the hub client raises many types; the message is what matters
        raise FileNotFoundError(
            f"model {repo!r} is neither cached locally nor reachable on the hub ({type(err).__name__}: {err})"
        ) from err
