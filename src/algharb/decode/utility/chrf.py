"""``chrf``: all pairwise sentence-level chrF scores at once, exactly as sacrebleu computes them.

``chrf_matrix(hyps)[i, j] == CHRF().sentence_score(hyps[i], [hyps[j]]).score / 100``
bit for bit (sacrebleu 2.6.0: chrF2, character order 6, word order 0, β = 2,
whitespace removed, effective-order averaging or, with ``eps_smoothing``, the
chrF++.py-style ε smoothing). It replaces the N×N loop over sacrebleu in
chrF-utility MBR, where the same N candidates are compared with each other.

How (numpy only):

1. Each distinct text is preprocessed once (lowercasing, whitespace removal)
   and turned into integer tokens (Unicode code points; word ids for chrF++).
2. n-grams get integer ids order by order: the id of an n-gram is the rank of
   the pair (id of its (n−1)-gram prefix, its last token), so no substring is
   ever built and identity is exact.
3. Clipped matches Σ_g min(c_h(g), c_r(g)) use min(a, b) = Σ_k [a ≥ k][b ≥ k]:
   the k-th occurrence of n-gram g in a sentence is a column (g, k) of a 0/1
   occurrence matrix B, and the match matrix of an order is B_h · B_rᵀ, one
   dense float32 matrix product (exact: the integer sums stay below 2²⁴;
   float64 takes over for texts of 2²⁴ characters or more).
   Against itself, columns held by a single sentence only touch the diagonal
   (which is the sentence's own n-gram count) and columns held by every
   sentence add 1 everywhere, so both are dropped from the product.
4. Precision, recall and the F-score are sacrebleu's ``_compute_f_score``
   evaluated element-wise in the same operation order, hence the same floats.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..config import MBRConfig
from .base import UTILITIES, UtilityInputs

CHAR_ORDER = 6
WORD_ORDER = 0
BETA = 2
EPS = 1e-16  # sacrebleu's chrF++.py-style smoothing constant

# Fallback switches (module constants so that tests can force every path):
_PACK_BITS = 62  # (n-gram key, index) packed into one int64 for a plain sort while they fit
_RANK_SLACK = 65536  # (n-gram, rank) columns stay uncompacted up to 4·occurrences + this
_FLOAT32_EXACT = 2**24  # float32 products of 0/1 matrices are exact while counts stay below

_PUNCTS = set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~')


def _remove_punctuation(sent: str) -> list[str]:
    """sacrebleu's chrF++ word tokenisation (``CHRF._remove_punctuation``)."""
    tokenized: list[str] = []
    for w in sent.split():
        if len(w) == 1:
            tokenized.append(w)
        elif w[-1] in _PUNCTS:
            tokenized += [w[:-1], w[-1]]
        elif w[0] in _PUNCTS:
            tokenized += [w[0], w[1:]]
        else:
            tokenized.append(w)
    return tokenized


class _Orders:
    """Per n-gram order, the 0/1 occurrence matrix in coordinate form.

    ``rows[n]``/``cols[n]`` hold one entry per n-gram occurrence: row = sentence,
    column = (n-gram, occurrence rank within that sentence). ``lengths[n]`` is
    each sentence's number of n-grams of that order (its hyp/ref count).
    """

    def __init__(self, tokens: np.ndarray, lengths: np.ndarray, max_order: int):
        n_sent = lengths.size
        self.n_sent = n_sent
        self.lengths: list[np.ndarray] = []
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.n_cols: list[int] = []
        total = int(tokens.size)
        if max_order <= 0:
            return
        if total:
            _, tok = np.unique(tokens, return_inverse=True)
            tok = tok.astype(np.int64, copy=False).ravel()
            vocab = int(tok.max()) + 1
        else:
            tok = np.zeros(0, dtype=np.int64)
            vocab = 1
        row_of = np.repeat(np.arange(n_sent, dtype=np.int64), lengths)
        # tokens from each position to the end of its sentence
        remaining = np.repeat(np.cumsum(lengths), lengths) - np.arange(total, dtype=np.int64)
        pos = np.arange(total, dtype=np.int64)
        ids = tok
        for n in range(1, max_order + 1):
            self.lengths.append(np.maximum(lengths - (n - 1), 0))
            if n > 1 and pos.size:
                keep = remaining[pos] >= n
                pos = pos[keep]
                # (prefix id, last token) -> key; prefix ids are dense (< total), so no overflow
                ids = ids[keep] * vocab + tok[pos + (n - 1)]
            m = pos.size
            if m == 0:
                self.rows.append(np.zeros(0, dtype=np.int64))
                self.cols.append(np.zeros(0, dtype=np.int64))
                self.n_cols.append(0)
                continue
            # sort by n-gram, equal n-grams in position order (= sentence order)
            key_bits = max(int(ids.max()).bit_length(), 1)
            pos_bits = max(m - 1, 1).bit_length()
            if key_bits + pos_bits <= _PACK_BITS:
                # one plain sort of (key, index) packed in an int64: much faster than a stable argsort
                packed = np.sort((ids << pos_bits) | np.arange(m, dtype=np.int64))
                order = packed & ((1 << pos_bits) - 1)
                sorted_ids = packed >> pos_bits
            else:
                order = np.argsort(ids, kind="stable")
                sorted_ids = ids[order]
            rows = row_of[pos[order]]
            new_gram = np.empty(m, dtype=bool)
            new_gram[0] = True
            np.not_equal(sorted_ids[1:], sorted_ids[:-1], out=new_gram[1:])
            gram = np.cumsum(new_gram) - 1
            n_grams = int(gram[-1]) + 1
            new_group = new_gram.copy()
            new_group[1:] |= rows[1:] != rows[:-1]
            # occurrence rank of each n-gram within its sentence: column (n-gram, rank)
            starts = np.flatnonzero(new_group)
            rank = np.arange(m, dtype=np.int64) - np.repeat(starts, np.diff(starts, append=m))
            n_cols = n_grams
            if starts.size < m:  # some n-gram occurs more than once in a sentence
                top = int(rank.max())
                cols = gram + rank * n_grams
                n_cols = n_grams * (top + 1)
                if n_cols > 4 * m + _RANK_SLACK:  # sparse ranks: compact the repeated columns
                    repeat = rank > 0
                    _, extra = np.unique(cols[repeat], return_inverse=True)
                    cols[repeat] = n_grams + extra.ravel()
                    n_cols = n_grams + int(extra.max()) + 1
            else:
                cols = gram
            self.rows.append(rows)
            self.cols.append(cols)
            self.n_cols.append(n_cols)
            # dense ids in position order for the next order's keys
            dense = np.empty(m, dtype=np.int64)
            dense[order] = gram
            ids = dense


def _all_matches(tables: list[_Orders], n_sent: int, hyp_rows: np.ndarray | None,
                 ref_rows: np.ndarray | None) -> list[np.ndarray]:
    """Per order, Σ_g min(c_h(g), c_r(g)) for every (hypothesis, reference) pair, float64.

    All orders share one pruning pass and one dense 0/1 occurrence matrix whose
    column blocks (one per order) are multiplied separately. ``hyp_rows is None``
    means the pooled sentences against themselves (symmetric, diagonal known).
    """
    rows_l, cols_l, order_of_col, counts = [], [], [], []
    offset = 0
    for table in tables:
        for rows, cols, n_cols, lengths in zip(table.rows, table.cols, table.n_cols, table.lengths):
            rows_l.append(rows)
            cols_l.append(cols + offset)
            order_of_col.append(np.full(n_cols, len(counts), dtype=np.int64))
            counts.append(lengths)
            offset += n_cols
    n_orders = len(counts)
    rows = np.concatenate(rows_l)
    cols = np.concatenate(cols_l)
    order_of_col = np.concatenate(order_of_col)
    # float32 sums of 0/1 products are exact below 2**24; longer texts use float64
    longest = max((int(c.max()) for c in counts if c.size), default=0)
    dtype = np.float32 if longest < _FLOAT32_EXACT else np.float64
    self_mode = hyp_rows is None
    if self_mode:
        shape = (n_sent, n_sent)
        held_by = np.bincount(cols, minlength=offset)
        # held by one sentence: only the diagonal (set below); by all: +1 everywhere
        everyone = np.bincount(order_of_col[held_by == n_sent], minlength=n_orders)
        shared = (held_by > 1) & (held_by < n_sent)
    else:
        shape = (hyp_rows.size, ref_rows.size)
        is_hyp = np.zeros(n_sent, dtype=bool)
        is_hyp[hyp_rows] = True
        is_ref = np.zeros(n_sent, dtype=bool)
        is_ref[ref_rows] = True
        shared = (np.bincount(cols[is_hyp[rows]], minlength=offset) > 0) & \
                 (np.bincount(cols[is_ref[rows]], minlength=offset) > 0)
        everyone = np.zeros(n_orders, dtype=np.int64)
    new_col = np.cumsum(shared) - 1
    width = int(new_col[-1]) + 1 if offset else 0
    occurrence = np.zeros((n_sent, width), dtype=dtype)
    keep = shared[cols]
    occurrence[rows[keep], new_col[cols[keep]]] = 1.0
    # kept columns stay sorted by order: block boundaries per order
    bounds = np.searchsorted(order_of_col[shared], np.arange(n_orders + 1))
    hyp_occ = occurrence if self_mode else occurrence[hyp_rows]
    ref_occ = occurrence if self_mode else occurrence[ref_rows]
    matches = []
    for n in range(n_orders):
        lo, hi = bounds[n], bounds[n + 1]
        match = np.zeros(shape) if hi == lo else (hyp_occ[:, lo:hi] @ ref_occ[:, lo:hi].T).astype(np.float64)
        if everyone[n]:
            match += everyone[n]
        if self_mode:
            np.fill_diagonal(match, counts[n])
        matches.append(match)
    return matches


def _f_score(matches: list[np.ndarray], hyp_counts: list[np.ndarray], ref_counts: list[np.ndarray],
             beta: float, eps_smoothing: bool) -> np.ndarray:
    """sacrebleu's ``CHRF._compute_f_score`` element-wise; result on the 0–1 scale."""
    factor = beta ** 2
    shape = matches[0].shape
    if eps_smoothing:
        score = np.zeros(shape)
        for match, n_hyp, n_ref in zip(matches, hyp_counts, ref_counts):
            # sacrebleu reports the hyp count as 0 when the reference has no n-gram of that order
            hyp = np.where(n_ref[None, :] > 0, n_hyp[:, None], 0).astype(np.float64)
            ref = np.broadcast_to(n_ref[None, :].astype(np.float64), shape)
            prec = np.full(shape, EPS)
            np.divide(match, hyp, out=prec, where=hyp > 0)
            rec = np.full(shape, EPS)
            np.divide(match, ref, out=rec, where=ref > 0)
            denom = factor * prec + rec
            term = np.full(shape, EPS)
            np.divide((1 + factor) * prec * rec, denom, out=term, where=denom > 0)
            score = score + term
        return 100 * score / len(matches) / 100

    sum_prec = np.zeros(shape)
    sum_rec = np.zeros(shape)
    effective = np.zeros(shape, dtype=np.int64)
    for match, n_hyp, n_ref in zip(matches, hyp_counts, ref_counts):
        hyp = n_hyp.astype(np.float64)[:, None]
        ref = n_ref.astype(np.float64)[None, :]
        if n_hyp.all() and n_ref.all():  # every pair has this order (the usual case)
            sum_prec = sum_prec + match / hyp
            sum_rec = sum_rec + match / ref
            effective += 1
            continue
        active = (n_hyp[:, None] > 0) & (n_ref[None, :] > 0)
        if not active.any():
            continue
        prec = np.zeros(shape)
        np.divide(match, hyp, out=prec, where=active)
        rec = np.zeros(shape)
        np.divide(match, ref, out=rec, where=active)
        sum_prec = sum_prec + prec  # + 0.0 where inactive: same floats as skipping
        sum_rec = sum_rec + rec
        effective += active
    some = effective > 0
    if some.all():
        avg_prec = sum_prec / effective
        avg_rec = sum_rec / effective
    else:
        avg_prec = np.zeros(shape)
        np.divide(sum_prec, effective, out=avg_prec, where=some)
        avg_rec = np.zeros(shape)
        np.divide(sum_rec, effective, out=avg_rec, where=some)
    numer = (1 + factor) * avg_prec * avg_rec
    denom = (factor * avg_prec) + avg_rec
    nonzero = (avg_prec + avg_rec) != 0
    score = np.zeros(shape)
    np.divide(numer, denom, out=score, where=nonzero)
    # sacrebleu returns 100 * score (0.0 when precision and recall are both 0); callers divide by 100
    return 100 * score / 100


def _distinct(texts: Sequence[str], key) -> tuple[list[str], np.ndarray]:
    """Distinct preprocessed texts (first-seen order) and each text's index among them."""
    raw: dict[str, int] = {}
    first = [raw.setdefault(text, len(raw)) for text in texts]
    index: dict[str, int] = {}
    originals: list[str] = []
    slots = np.empty(len(raw), dtype=np.int64)
    for slot, text in enumerate(raw):
        if not isinstance(text, str):
            raise TypeError(f"chrF needs strings, got {type(text).__name__}")
        k = key(text)
        target = index.get(k)
        if target is None:
            target = index[k] = len(originals)
            originals.append(k)
        slots[slot] = target
    return originals, slots[np.asarray(first, dtype=np.int64)]


def chrf_matrix(hypotheses: Sequence[str], references: Sequence[str] | None = None,
                char_order: int = CHAR_ORDER, beta: float = BETA, word_order: int = WORD_ORDER,
                lowercase: bool = False, whitespace: bool = False,
                eps_smoothing: bool = False) -> np.ndarray:
    """Sentence chrF of every hypothesis against every reference, on a 0–1 scale.

    ``out[i, j] = CHRF(char_order, word_order, beta, lowercase, whitespace,
    eps_smoothing).sentence_score(hypotheses[i], [references[j]]).score / 100``
    (identical floats). Without ``references`` the hypotheses are scored against
    themselves (the MBR utility matrix). Returns float64 of shape
    ``(len(hypotheses), len(references))``; duplicates are scored once.
    """
    if char_order < 0 or word_order < 0 or char_order + word_order == 0:
        raise ValueError("need char_order + word_order > 0 (both non-negative)")
    self_mode = references is None

    def key(text: str) -> str:
        text = text.lower() if lowercase else text
        if word_order > 0:
            return text  # word n-grams see the spacing; strip characters later
        return text if whitespace else "".join(text.split())

    hyp_texts, hyp_inv = _distinct(hypotheses, key)
    if self_mode:
        pool, ref_inv = hyp_texts, hyp_inv
        hyp_rows = ref_rows = np.arange(len(pool))
    else:
        ref_texts, ref_inv = _distinct(references, key)
        pool_index = {t: i for i, t in enumerate(hyp_texts)}
        for t in ref_texts:
            pool_index.setdefault(t, len(pool_index))
        pool = list(pool_index)
        hyp_rows = np.arange(len(hyp_texts))
        ref_rows = np.array([pool_index[t] for t in ref_texts], dtype=np.int64)
    n_sent = len(pool)
    if hyp_inv.size == 0 or ref_inv.size == 0:
        return np.zeros((hyp_inv.size, ref_inv.size))

    tables: list[_Orders] = []
    if char_order > 0:
        chars = pool if (whitespace or word_order == 0) else ["".join(t.split()) for t in pool]
        lengths = np.fromiter((len(t) for t in chars), dtype=np.int64, count=n_sent)
        tokens = np.frombuffer("".join(chars).encode("utf-32-le", "surrogatepass"), dtype="<u4")
        tables.append(_Orders(tokens, lengths, char_order))
    if word_order > 0:
        vocab: dict[str, int] = {}
        words = [[vocab.setdefault(w, len(vocab)) for w in _remove_punctuation(t)] for t in pool]
        lengths = np.fromiter((len(w) for w in words), dtype=np.int64, count=n_sent)
        tokens = np.fromiter((i for w in words for i in w), dtype=np.int64, count=int(lengths.sum()))
        tables.append(_Orders(tokens, lengths, word_order))

    self_rows = None if self_mode else hyp_rows
    matches = _all_matches(tables, n_sent, self_rows, None if self_mode else ref_rows)
    counts = [c for table in tables for c in table.lengths]
    hyp_counts = [c[hyp_rows] for c in counts]
    ref_counts = [c[ref_rows] for c in counts]
    scores = _f_score(matches, hyp_counts, ref_counts, beta, eps_smoothing)
    return scores[np.ix_(hyp_inv, ref_inv)]


@UTILITIES.register("chrf")
class ChrfUtility:
    """``U = chrF(hypothesis, pseudo-reference) / 100`` (sacrebleu's sentence chrF); the source is not read."""

    def __init__(self, config: MBRConfig, inputs: UtilityInputs):
        pass

    def matrices(self, sources: Sequence[str], candidate_lists: Sequence[Sequence[str]]) -> list[np.ndarray]:
        if len(sources) != len(candidate_lists):
            raise ValueError(f"{len(sources)} sources but {len(candidate_lists)} candidate lists")
        return [chrf_matrix(candidates) for candidates in candidate_lists]
