"""Write a table for people: TSV for tools, Markdown for the README/report, LaTeX for the paper."""

from __future__ import annotations

import pandas as pd

from ..io import atomic_write


def write_table(table: pd.DataFrame, tsv_path=None, md_path=None, tex_path=None, caption: str = "") -> None:
    if tsv_path:
        with atomic_write(tsv_path) as handle:
            table.to_csv(handle, sep="\t", float_format="%.2f")
    if md_path:
        with atomic_write(md_path) as handle:
            handle.write(table.to_markdown(floatfmt=".2f") + "\n")
    if tex_path:
        with atomic_write(tex_path) as handle:
            handle.write(table.to_latex(float_format="%.2f", caption=caption or None, escape=True))
