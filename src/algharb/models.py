"""Model entries of the config: ``{path: local}`` or ``{hub: owner/name}``, generators with a backend."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from .config.section import Section, option
from .prompts import PromptFormat


@dataclass(frozen=True)
class ModelSpec(Section):
    """One entry of ``models`` (or a generator entry built by the workflow, e.g. a trained stage)."""

    path: str | None = option(None, "local directory or file")
    hub: str | None = option(None, "Hugging Face hub id (owner/name)")
    backend: str = option("transformers", "generation backend by registry name (generators only)")
    options: dict = option(help="the backend's keyword arguments (e.g. base_url for openai)", factory=dict)
    prompt: PromptFormat | None = option(None, "generators: how the prompt is built (PromptFormat: format or "
                                               "chat_template); None: the project's chat prompt")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None, where: str = "model") -> "ModelSpec":
        """The entry's values over the defaults; an unknown key (or a bad ``prompt``) raises naming ``where.key``."""
        values = dict(values or {})
        if values.get("prompt") is not None and not isinstance(values["prompt"], PromptFormat):
            values["prompt"] = PromptFormat.from_dict(values["prompt"], where=f"{where}.prompt")
        return super().from_dict(values, where)

    @property
    def location(self) -> str | None:
        """The path, else the hub id, as written (nothing checked)."""
        return self.path if self.path is not None else self.hub

    def reference(self) -> str:
        """The ``path`` (which must exist) or ``hub`` id."""
        return model_reference(self.to_dict())


def model_reference(spec: Mapping) -> str:
    """The ``path`` (which must exist) or ``hub`` id of a config model entry."""
    if spec.get("path") is not None:
        if not Path(spec["path"]).exists():
            raise FileNotFoundError(f"model path {spec['path']!r} does not exist")
        return str(spec["path"])
    if spec.get("hub") is not None:
        return str(spec["hub"])
    raise ValueError(f"model entry {dict(spec)} needs 'path' or 'hub'")


def local_model_dir(spec: Mapping, filename: str | None = None) -> str:
    """A local path for a model entry, fetching a hub id into the HF cache if needed.

    With ``filename`` a single file of the hub repository is fetched (e.g. the
    fastText LID model's ``model.bin``). On an offline machine the hub id must
    already be in the cache (HF_HUB_OFFLINE=1 is honoured by huggingface_hub).
    """
    if spec.get("path") is not None:
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
