"""How well the cleaning stage separates noise from clean pairs (demo world only: its noise labels).

The demo world labels every raw line with the kind of noise injected into it
(or ``clean``). Given the final decision table, this module reports

* per noise kind: the share of its lines the cleaning rejected (recall, by
  any filter) and the filter that caught most of them; for ``clean`` lines
  the share lost;
* per filter: the lines it removed, its precision (share of those that are
  noise of any kind) and its recall on the kinds it is meant to catch
  (``TARGET_KINDS``; the first failing filter gets the credit, so a copy
  that is also junk counts for whichever filter ran first);
* the precision of what was kept (share of kept pairs that are clean).
"""

from __future__ import annotations

import logging

import pandas as pd

from algharb.data.decisions import read_decisions

log = logging.getLogger(__name__)

CLEAN = "clean"
# Which injected kinds each filter exists to catch (see algharb.demo.world_noise).
TARGET_KINDS: dict[str, tuple[str, ...]] = {
    "length": ("length_outlier",),
    "length_ratio": ("length_outlier",),
    "non_alphabetic": ("non_alphabetic",),
    "copy": ("untranslated_copy",),
    "language_id": ("wrong_language",),
    "duplicate": ("duplicate",),
    "near_duplicate": ("near_duplicate",),
    "qe": ("misaligned", "truncated"),
}
# Kinds a rule (not the learned QE model) can catch: the issue's ≥ 0.95 recall bar applies to them.
RULE_KINDS = tuple(sorted({kind for name, kinds in TARGET_KINDS.items() if name != "qe" for kind in kinds}))
TARGET_RECALL = 0.95
TARGET_PRECISION = 0.95


def labelled(decisions: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """Decisions with their noise label; every decision line must have one."""
    merged = decisions[["line", "kept", "reason"]].merge(labels[["line", "kind"]], on="line", how="left")
    missing = merged["kind"].isna()
    if missing.any():
        raise ValueError(f"{int(missing.sum())} decision lines have no noise label (first: line "
                         f"{int(merged.loc[missing, 'line'].iloc[0])})")
    merged["rejected"] = ~merged["kept"].astype(bool)
    # "language_id:src" and "language_id:tgt" are one filter.
    merged["filter"] = merged["reason"].str.split(":").str[0]
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


def filter_precision_recall(decisions: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """Per filter that removed anything: removed lines, precision, recall on its target kinds."""
    merged = labelled(decisions, labels)
    rows = []
    for name, group in merged[merged["rejected"]].groupby("filter", sort=True):
        targets = TARGET_KINDS.get(name, ())
        target_lines = merged["kind"].isin(targets)
        caught = (group["kind"].isin(targets)).sum()
        rows.append({"filter": name, "removed": len(group), "precision": (group["kind"] != CLEAN).mean(),
                     "targets": ", ".join(targets),
                     "recall": caught / target_lines.sum() if target_lines.any() else float("nan")})
    return pd.DataFrame(rows, columns=["filter", "removed", "precision", "targets", "recall"]).set_index("filter")


def kept_precision(decisions: pd.DataFrame, labels: pd.DataFrame) -> float:
    """Share of the kept pairs that are clean."""
    merged = labelled(decisions, labels)
    kept = merged[~merged["rejected"]]
    return float((kept["kind"] == CLEAN).mean()) if len(kept) else float("nan")


def filter_quality_file(decision_paths, label_paths, pairs, out_tsv, out_md, out_filters_tsv,
                        out_filters_md) -> pd.DataFrame:
    """The demo's filter-quality tables: how well cleaning separated the injected noise, per noise kind and per filter.

    Per kind: the share of its lines rejected (recall), with ``target`` the
    bar the issue sets for kinds a rule can catch (and for the last row,
    ``precision_of_kept``: the share of kept pairs that are clean).
    Per filter: removed lines, precision and recall on its target kinds.
    """
    from algharb.report.tables import write_table

    kinds, filters = [], []
    for pair, decisions_path, labels_path in zip(pairs, decision_paths, label_paths):
        decisions = read_decisions(decisions_path)
        labels = pd.read_csv(labels_path, sep="\t")
        table = filter_quality(decisions, labels).rename(columns={"rejected_share": "share"})
        table["target"] = [TARGET_RECALL if kind in RULE_KINDS else float("nan") for kind in table.index]
        table.loc["precision_of_kept"] = {"lines": int(decisions["kept"].sum()), "top_reason": "",
                                          "share": kept_precision(decisions, labels), "target": TARGET_PRECISION}
        kinds.append(table.reset_index().assign(pair=pair))
        filters.append(filter_precision_recall(decisions, labels).reset_index().assign(pair=pair))
    result = pd.concat(kinds)[["pair", "kind", "lines", "share", "target", "top_reason"]].set_index("pair")
    result["meets_target"] = [("yes" if share >= target else "NO") if target == target else ""
                              for share, target in zip(result["share"], result["target"])]
    write_table(result, tsv_path=out_tsv, md_path=out_md)
    per_filter = pd.concat(filters)[["pair", "filter", "removed", "precision", "recall", "targets"]]
    write_table(per_filter.set_index("pair"), tsv_path=out_filters_tsv, md_path=out_filters_md)
    missed = result[result["meets_target"] == "NO"]
    if len(missed):
        log.warning("below target: %s", missed[["kind", "share", "target"]].to_dict("records"))
    return result
