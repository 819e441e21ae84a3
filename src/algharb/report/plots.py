"""Plots for the Snakemake report (matplotlib, no display needed)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from ..io import atomic_path  # noqa: E402


def _save(fig, path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, bbox_inches="tight", format="png")
    plt.close(fig)


def interval_bars(significance: pd.DataFrame, metrics: list[str], confidence: float, path) -> None:
    """One panel per metric: each system's score per direction and on average, with its confidence interval.

    ``significance`` is the long table of :func:`algharb.steps.evaluate.significance_tables`.
    """
    columns = list(dict.fromkeys(significance["pair"]))
    systems = list(dict.fromkeys(significance["system"]))
    fig, axes = plt.subplots(1, len(metrics), figsize=(1.2 + 1.1 * len(columns) * len(metrics) * max(1, len(systems)) / 3,
                                                        3.8), squeeze=False)
    colors = plt.get_cmap("tab10").colors
    width = 0.8 / max(1, len(systems))
    for ax, metric in zip(axes[0], metrics):
        chosen = significance[significance["metric"] == metric].set_index(["system", "pair"])
        for k, system in enumerate(systems):
            xs, ys, errors = [], [], [[], []]
            for i, column in enumerate(columns):
                if (system, column) not in chosen.index:
                    continue
                row = chosen.loc[(system, column)]
                xs.append(i - 0.4 + width * (k + 0.5))
                ys.append(row["score"])
                errors[0].append(row["score"] - row["ci_low"])
                errors[1].append(row["ci_high"] - row["score"])
            ax.errorbar(xs, ys, yerr=errors, fmt="o", color=colors[k % 10], capsize=3, label=system, markersize=4)
        ax.set_xticks(range(len(columns)), columns, rotation=30, ha="right")
        ax.set_title(metric)
        ax.grid(axis="y", alpha=0.3)
    axes[0][-1].legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8)
    fig.suptitle(f"Scores with {confidence:.0%} bootstrap confidence intervals, per direction and averaged", y=1.03)
    _save(fig, path)


def funnel_bars(funnels: dict[str, pd.DataFrame], path) -> None:
    """Pairs kept and removed by each filter, per direction (horizontal stacked bars).

    A funnel table has rows ``pairs_in``, ``removed:<reason>``… and ``pairs_out``;
    the bar of a direction is ``pairs_out`` plus every removal, i.e. ``pairs_in``.
    """
    fig, ax = plt.subplots(figsize=(8, 0.8 + 0.6 * len(funnels)))
    stages = ["pairs_out"]
    for frame in funnels.values():
        stages += [s for s in frame["stage"] if s.startswith("removed:") and s not in stages]
    left = {pair: 0 for pair in funnels}
    colors = plt.get_cmap("tab20").colors
    for k, stage in enumerate(stages):
        widths = []
        for pair, frame in funnels.items():
            match = frame.loc[frame["stage"] == stage, "pairs"]
            widths.append(int(match.iloc[0]) if len(match) else 0)
        ax.barh(list(funnels), widths, left=[left[p] for p in funnels], label=stage, color=colors[k % 20])
        for pair, w in zip(funnels, widths):
            left[pair] += w
    ax.set_xlabel("sentence pairs")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=4, fontsize=8)
    ax.set_title("Cleaning funnel: kept pairs and removals by filter")
    _save(fig, path)


def training_curves(logs: dict[str, list[dict]], path) -> None:
    """Loss per stage, CPO's implicit rewards, and the dynamic stage's w(t), rewards and KL loss."""
    fig, axes = plt.subplots(1, 3, figsize=(16, 3.8))
    for stage, rows in logs.items():
        steps = [r["step"] for r in rows if "loss" in r]
        losses = [r["loss"] for r in rows if "loss" in r]
        if steps:
            axes[0].plot(steps, losses, label=stage)
    axes[0].set_xlabel("step")
    axes[0].set_ylabel("training loss")
    axes[0].set_yscale("log")
    axes[0].legend()
    dynamic = _last_method_log(logs, "dynamic")
    for key in ("w", "r_qe_mean", "r_self_mean", "kl_loss", "preference_loss"):
        points = [(r["step"], r[key]) for r in dynamic if key in r]
        if points:
            axes[1].plot(*zip(*points), label=key)
    axes[1].set_xlabel("step")
    axes[1].set_title("dynamic multi-reward optimisation")
    axes[1].legend(fontsize=8)
    cpo = _last_method_log(logs, "cpo")
    for key in ("rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies"):
        points = [(r["step"], r[key]) for r in cpo if key in r]
        if points:
            axes[2].plot(*zip(*points), label=key.split("/")[1])
    axes[2].set_xlabel("step")
    axes[2].set_title("CPO: β·log π(y) of chosen and rejected")
    axes[2].legend(fontsize=8)
    fig.tight_layout()
    _save(fig, path)


def _last_method_log(logs: dict[str, list[dict]], method: str) -> list[dict]:
    """The log of the first stage whose chain (``cpo+dynamic``) ends with ``method``; [] when none."""
    return next((rows for stage, rows in logs.items() if stage.split("+")[-1] == method), [])


def lambda_sweep_lines(table: pd.DataFrame, path) -> None:
    """chrF (and the omission share, when known) against λ, one line per direction."""
    panels = ["chrf"] + (["omission_share"] if "omission_share" in table else [])
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.5), squeeze=False)
    for ax, column in zip(axes[0], panels):
        for pair, group in table.groupby("pair", sort=False):
            ax.plot(group["lambda"], group[column], marker="o", label=pair,
                    linewidth=2.5 if pair == "AVG" else 1.2)
        ax.set_xlabel("λ (weight of the alignment score)")
        ax.set_ylabel({"chrf": "chrF", "omission_share": "share of outputs with an omission"}[column])
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.suptitle("Hybrid MBR: S_MBR + λ·S_align, re-selected from saved scores")
    fig.tight_layout()
    _save(fig, path)
