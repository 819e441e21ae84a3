"""WMT25 steps: the release downloaded as is, the test set's segment map, submission files, other systems' rows.

A test set given as WMT JSONL (``data.test.<pair>``, format ``wmt-jsonl``,
``segment: paragraph``) is turned into line-aligned ``.src``/``.tgt`` files
by the ``prepare_split`` step as any other format; :func:`wmt_segments_step`
writes, from the same spec, where each of those lines came from. With that
map, :func:`wmt_submission_step` rebuilds a system's output as a WMT25
submission and checks it against the release, and
:func:`wmt_external_step` takes another system's output from the
human-evaluation release as a hypothesis file line-aligned with the test set.
"""

from __future__ import annotations

import logging
import shutil
import urllib.request
from collections.abc import Mapping

from ..data.ingest import normalize_spec
from ..data.wmt import (
    external_hypotheses,
    read_segmented,
    read_submission,
    write_mismatches,
    write_segment_map,
    write_submission,
)
from ..io import atomic_path, write_lines

log = logging.getLogger(__name__)


def fetch_wmt_release(url: str, out_path) -> None:
    """Download a WMT JSONL release unchanged (doc ids and paragraphs kept), atomically."""
    with urllib.request.urlopen(url, timeout=300) as response, atomic_path(out_path) as tmp:
        with open(tmp, "wb") as handle:
            shutil.copyfileobj(response, handle)


def wmt_segments_step(spec: Mapping, out_segments, out_mismatches, where: str = "test set") -> dict:
    """The segment map of a ``wmt-jsonl`` test set and its per-document paragraph report.

    Its rows line up with the ``.src``/``.tgt`` files that ``prepare_split``
    writes from the same spec (both cut the release with
    :mod:`algharb.data.wmt`). The report lists the documents kept as one
    segment because the reference's paragraph count differs from the
    source's (``expected``: source, ``found``: reference).
    """
    spec = normalize_spec(spec, where)
    if spec["format"] != "wmt-jsonl":
        raise ValueError(f"{where}: a segment map needs a WMT JSONL test set (format wmt-jsonl), "
                         f"not format '{spec['format']}'")
    segmented = read_segmented(spec["jsonl"], spec["doc_prefix"], spec["reference"], spec["segment"])
    rows = write_segment_map(out_segments, segmented.segments)
    write_mismatches(out_mismatches, segmented.merged)
    summary = {"segments": rows, "documents": len({s.doc_id for s in segmented.segments}),
               "kept_whole": len(segmented.merged), "invalid_utf8": len(segmented.invalid_utf8)}
    log.info("%s: %s", where, summary)
    return summary


def wmt_submission_step(segments, hypotheses, out_submission, out_check, release=None, doc_prefix: str = "") -> dict:
    """One system's output on one test set as a WMT25 submission, checked against the release.

    The check (:func:`algharb.data.wmt.read_submission`) fails on a
    malformed file or a document missing or extra; documents whose
    paragraph count differs from the source's (those the test set kept as
    one segment) are written to ``out_check`` and logged.
    """
    documents = write_submission(segments, hypotheses, out_submission)
    mismatches = []
    if release is not None:
        mismatches = read_submission(out_submission, release, doc_prefix).mismatches
        for mismatch in mismatches:
            log.warning("%s: %s has %d paragraph(s), the source %d", out_submission, mismatch.doc_id,
                        mismatch.found, mismatch.expected)
    write_mismatches(out_check, mismatches)
    summary = {"documents": documents, "paragraph_mismatches": len(mismatches)}
    log.info("%s: %s", out_submission, summary)
    return summary


def wmt_external_step(release, doc_prefix: str, system: str, segments, out_hyp, out_report) -> dict:
    """Another system's output from the human-evaluation release, line-aligned with the test set.

    ``out_report`` lists the documents whose system paragraph count differs
    from the source's (fitted by the rule of
    :func:`algharb.data.wmt.external_hypotheses`).
    """
    hypotheses, mismatches = external_hypotheses(release, doc_prefix, system, segments)
    write_lines(out_hyp, hypotheses)
    write_mismatches(out_report, mismatches)
    summary = {"system": system, "segments": len(hypotheses), "paragraph_mismatches": len(mismatches)}
    log.info("%s: %s", release, summary)
    return summary
