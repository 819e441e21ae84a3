"""Where the demo world and its stand-in models live under ``results/demo/`` (used by rules/demo.smk)."""

from __future__ import annotations

from algharb.prompts import split_pair

WORLD = "results/demo/world"
MODELS = "results/demo/models"
# Splits of clean parallel text the world writes for every pair.
CLEAN_SPLITS = ("dev", "test", "teacher", "metric")


def world_files(pairs: list[str], domain_pairs: list[str] = ()) -> list[str]:
    """Every file the world generator writes: raw corpora with noise labels, clean splits, LID data, RL
    sources, and the specialised domain's splits of ``domain_pairs``."""
    files = [f"{WORLD}/lid/train.txt", f"{WORLD}/lid/valid.txt"]
    for pair in pairs:
        src, tgt = split_pair(pair)
        base = f"{WORLD}/{pair}"
        files += [f"{base}/raw/train.{src}", f"{base}/raw/train.{tgt}", f"{base}/raw/noise_labels.tsv"]
        for split in CLEAN_SPLITS:
            files += [f"{base}/{split}.{src}", f"{base}/{split}.{tgt}"]
    files += [f"{WORLD}/rl/{lang}.txt" for lang in sorted({split_pair(p)[0] for p in pairs})]
    files += [rl_reference_file(pair) for pair in pairs]
    for pair in domain_pairs:
        files += domain_files(pair)
    return files


def rl_reference_file(pair: str) -> str:
    """The references of the RL sources in ``pair``'s target language, line-aligned with ``rl/{src}.txt``."""
    return f"{WORLD}/rl/{pair}.{split_pair(pair)[1]}"


def domain_files(pair: str) -> list[str]:
    """Both sides of the domain's train, dev and test splits of ``pair``."""
    from algharb.demo.world import DOMAIN_SPLITS

    src, tgt = split_pair(pair)
    return [f"{WORLD}/domain/{pair}/{split}.{side}" for split in DOMAIN_SPLITS for side in (src, tgt)]


def split_files(split: str, pairs: list[str]) -> list[str]:
    """Both sides of one clean split of every pair, pair after pair (source file first)."""
    files = []
    for pair in pairs:
        src, tgt = split_pair(pair)
        files += [f"{WORLD}/{pair}/{split}.{src}", f"{WORLD}/{pair}/{split}.{tgt}"]
    return files


def oracle_config(world: dict | None, seed: int, pairs: list[str]) -> dict | None:
    """The demo world's full config (what its oracle needs), or None outside the demo."""
    if world is None:
        return None
    return {**world, "seed": seed, "pairs": list(pairs)}
