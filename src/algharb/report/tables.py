"""Write a table for people: TSV for tools, Markdown for the README/report, LaTeX for the paper."""

from __future__ import annotations

import pandas as pd

from ..io import atomic_write


def write_table(table: pd.DataFrame, tsv_path=None, md_path=None, tex_path=None, caption: str = "",
                note: str = "") -> None:
    """``note`` (e.g. the legend of significance marks) follows the Markdown table as a paragraph."""
    if tsv_path:
        with atomic_write(tsv_path) as handle:
            table.to_csv(handle, sep="\t", float_format="%.2f")
    if md_path:
        with atomic_write(md_path) as handle:
            handle.write(_markdown(table) + "\n" + (f"\n{note}\n" if note else ""))
    if tex_path:
        with atomic_write(tex_path) as handle:
            latex = table.to_latex(float_format="%.2f", caption=_latex_text(caption) or None, escape=True)
            handle.write(_latex_marks(latex))


def _markdown(table: pd.DataFrame) -> str:
    # A row index of several levels would print as one column of tuples: give each level its own column.
    if isinstance(table.index, pd.MultiIndex):
        return table.reset_index().to_markdown(index=False, floatfmt=".2f")
    return table.to_markdown(floatfmt=".2f")


# Significance marks and the formulas' operators are text in the cells; pdfLaTeX needs them as math.
_LATEX_MARKS = {"†": r"$^{\dagger}$", "‡": r"$^{\ddagger}$", "§": r"$^{\S}$", "−": "$-$", "·": r"$\cdot$"}


def _latex_text(text: str) -> str:
    """Plain text (a caption) with LaTeX's special characters escaped."""
    for char in "\\&%$#_{}":
        text = text.replace(char, "\\" + char)
    return text


def _latex_marks(latex: str) -> str:
    for mark, command in _LATEX_MARKS.items():
        latex = latex.replace(mark, command)
    return latex
