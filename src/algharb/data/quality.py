"""How well the cleaning stage separates noise from clean pairs (demo world only).

The demo world labels every raw line with the kind of noise injected into it
(or ``clean``). Given the final decision table, this module reports, per
noise kind, the share of lines the cleaning rejected (its recall) and which
filter caught them, plus the precision of what was kept.
"""

from __future__ import annotations

import pandas as pd

CLEAN = "clean"


def labelled(decisions: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """Decisions with their noise label; every decision line must have one."""
    merged = decisions[["line", "kept", "reason"]].merge(labels[["line", "kind"]], on="line", how="left")
    missing = merged["kind"].isna()
    if missing.any():
        raise ValueError(f"{int(missing.sum())} decision lines have no noise label (first: line "
                         f"{int(merged.loc[missing, 'line'].iloc[0])})")
    merged["rejected"] = ~merged["kept"].astype(bool)
    return merged


def filter_quality(decisions: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """Per label kind: lines, share rejected (recall for noise; loss for ``clean``), top reason."""
    merged = labelled(decisions, labels)
    rows = []
    for kind, group in merged.groupby("kind", sort=True):
        reasons = group.loc[group["rejected"], "reason"].value_counts()
        rows.append({"kind": kind, "lines": len(group), "rejected_share": group["rejected"].mean(),
                     "top_reason": reasons.index[0] if len(reasons) else ""})
    return pd.DataFrame(rows).set_index("kind")


def kept_precision(decisions: pd.DataFrame, labels: pd.DataFrame) -> float:
    """Share of the kept pairs that are clean."""
    merged = labelled(decisions, labels)
    kept = merged[~merged["rejected"]]
    return float((kept["kind"] == CLEAN).mean()) if len(kept) else float("nan")
