"""Language identification for the ``language_id`` filter: the identifiers and the one factory.

Language identifiers are registered in :data:`LANGUAGE_IDENTIFIERS` under
the name the ``language_id`` filter's ``identifier`` option uses, and built
only by :func:`load_identifier` from a config model entry (``models.lid``:
``{path: ...}`` or ``{hub: ...}``). ``fasttext`` (:class:`LanguageIdentifier`)
loads any fastText LID model: the paper's lid.176 or GlotLID, or the
demo's stand-in (trained by :mod:`algharb.demo.lid`). An identifier offers
fastText-like batched prediction (:class:`LanguagePredictor`).

Speed. fastText's own predict costs a few microseconds per line, mostly
summing the rows of every character n-gram of every word. For a plain
softmax classifier (what the demo trains) :class:`LanguageIdentifier`
computes the same model for a whole batch with numpy instead: it tokenises
like fastText, sums each token's n-gram rows once and caches that token's
contribution to the logits, and adds up the cached contributions per line.
The result differs from fastText's float32 arithmetic only by rounding
(probabilities within 1e-6), and lines where that could matter are handed
to fastText itself: those whose top two labels are within ``EXACT_BAND``,
and in :meth:`LanguageIdentifier.matches` those whose probability is within
``EXACT_BAND`` of the threshold. So labels and filter decisions are
fastText's. Other models (hierarchical softmax, quantised, word n-grams,
e.g. lid.176) run through fastText as before.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Protocol, Sequence

import numpy as np

from algharb.models import local_model_dir
from algharb.registry import Registry

LABEL_PREFIX = "__label__"


class LanguagePredictor(Protocol):
    """Anything with fastText-like batched prediction: top label and its probability per text.

    An identifier may also offer ``matches(texts, label, min_prob)`` (see
    :meth:`LanguageIdentifier.matches`); the ``language_id`` filter uses it
    where present.
    """

    def predict(self, texts: Sequence[str]) -> tuple[list[str], np.ndarray]: ...


LANGUAGE_IDENTIFIERS: Registry[type] = Registry("language identifier")


def load_identifier(name: str, model: Mapping) -> LanguagePredictor:
    """The one way a language identifier is built: registry entry ``name`` with config model entry ``model``.

    ``model`` is ``{path: file}`` or ``{hub: owner/name}``; a hub repository
    is fetched (its ``HUB_FILENAME`` file) into the Hugging Face cache.
    """
    identifier = LANGUAGE_IDENTIFIERS.get(name, where="language_id.identifier")
    return identifier(local_model_dir(model, filename=identifier.HUB_FILENAME))


@LANGUAGE_IDENTIFIERS.register("fasttext")
class LanguageIdentifier:
    """Batched language prediction with a fastText model file (e.g. lid.176, GlotLID)."""

    # The model's file inside a hub repository (facebook/fasttext-language-identification).
    HUB_FILENAME = "model.bin"

    def __init__(self, model_path: str | os.PathLike):
        import fasttext  # loaded with the first model: importing algharb.data stays light

        if not Path(model_path).is_file():
            raise FileNotFoundError(f"language ID model not found: {model_path}")
        self.model_path = Path(model_path)
        self.model = fasttext.load_model(str(model_path))
        self._batched = _BatchedSoftmax.of(self.model)

    def predict(self, texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
        """Return the top language (without ``__label__``) and its probability per text.

        Newlines are replaced by spaces (fastText rejects them). A text
        fastText cannot label gets label "" and probability 0.
        """
        texts = list(texts)
        if self._batched is None:
            return self._predict_fasttext(texts)
        top, probs, margin = self._batched.predict(texts)
        labels = [self._batched.labels[i] for i in top.tolist()]
        probs = np.clip(probs + _FASTTEXT_PROB_OFFSET, 0.0, 1.0).astype(np.float32)
        # Near-ties (and unknown lines): let fastText pick, so labels are its own.
        for i in np.flatnonzero(margin < EXACT_BAND).tolist():
            (labels[i],), exact = self._predict_fasttext([texts[i]])
            probs[i] = exact[0]
        return labels, probs

    def matches(self, texts: Sequence[str], label: str, min_prob: float) -> np.ndarray:
        """Whether each text is predicted as ``label`` with probability >= ``min_prob``.

        The same decisions as comparing :meth:`predict`'s fastText results,
        made from the batched computation except within ``EXACT_BAND`` of a
        tie or of ``min_prob``.
        """
        texts = list(texts)
        if self._batched is None or label not in self._batched.labels:
            labels, probs = self.predict(texts)
            return np.array([found == label for found in labels], dtype=bool) & (probs.astype(np.float64) >= min_prob)
        top, probs, margin = self._batched.predict(texts)
        probs = np.minimum(probs + _FASTTEXT_PROB_OFFSET, 1.0)
        result = (top == self._batched.labels.index(label)) & (probs >= min_prob)
        for i in np.flatnonzero((margin < EXACT_BAND) | (np.abs(probs - min_prob) < EXACT_BAND)).tolist():
            (found,), exact = self._predict_fasttext([texts[i]])
            result[i] = found == label and float(exact[0]) >= min_prob
        return result

    def _predict_fasttext(self, texts: list[str]) -> tuple[list[str], np.ndarray]:
        """fastText's own predict, line by line in C++."""
        lines = [text.replace("\n", " ").replace("\r", " ") for text in texts]
        if not lines:
            return [], np.zeros(0, dtype=np.float32)
        all_labels, all_probs = self.model.predict(lines, k=1)
        labels = [found[0][len(LABEL_PREFIX) :] if found else "" for found in all_labels]
        probs = np.array([found[0] if len(found) else 0.0 for found in all_probs], dtype=np.float32)
        # fastText's softmax can return 1.00001; keep probabilities in [0, 1].
        return labels, np.clip(probs, 0.0, 1.0)


# Lines whose top-two probability gap, or distance to a threshold, is below
# this go to fastText itself. The batched probabilities differ from
# fastText's float32 ones by rounding, under 1e-6 (tests/test_lid.py); the
# band leaves a margin of a hundred times that.
EXACT_BAND = 1e-4
# fastText reports exp(log(p + 1e-5)) for a probability p.
_FASTTEXT_PROB_OFFSET = 1e-5
# Bytes fastText splits words at (Dictionary::readWord).
_FASTTEXT_SPACES = np.zeros(34, dtype=bool)
_FASTTEXT_SPACES[[ord(c) for c in " \n\r\t\v\f\0"]] = True
_HASH_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # odd, so invertible modulo 2**64


class _BatchedSoftmax:
    """fastText's supervised prediction for a batch of lines, with numpy.

    fastText averages the input rows of a line's ids (each word's own id if
    it is in the vocabulary, its character n-grams, and ``</s>`` at the end)
    and takes a softmax of the output matrix times that average. The average
    is linear, so each distinct token's share (its rows' sum, projected on
    the output matrix when there are fewer labels than dimensions, and its
    id count) is computed once, for all new tokens of a batch together, and
    cached under a 64-bit hash of the token.
    """

    @classmethod
    def of(cls, model) -> "_BatchedSoftmax | None":
        import fasttext

        args = model.f.getArgs()
        plain = (
            args.model == fasttext.FastText.model_name.supervised
            and args.loss == fasttext.FastText.loss_name.softmax
            and args.wordNgrams <= 1
            and not model.is_quantized()
        )
        return cls(model) if plain else None

    def __init__(self, model):
        args = model.f.getArgs()
        self.minn, self.maxn, self.bucket, self.label_prefix = args.minn, args.maxn, args.bucket, args.label
        self.labels = [label[len(self.label_prefix) :] for label in model.labels]
        self.word_ids = {word: i for i, word in enumerate(model.words)}
        self.output = model.get_output_matrix().astype(np.float64)
        rows = model.get_input_matrix()
        # Shares live in logit space when that is smaller than the hidden one.
        self.project = len(self.labels) <= rows.shape[1]
        self.row_values = rows.astype(np.float64) @ self.output.T if self.project else rows
        # Random odd per-codepoint values: two different tokens share a hash
        # with probability 2**-64 (seeded, so runs agree).
        self.char_values = np.random.default_rng(0).integers(0, 2**63, 0x110000, dtype=np.uint64) * 2 + 1
        self.powers = self.inverse_powers = np.ones(1, dtype=np.uint64)
        self._clear()
        end = self.word_ids["</s>"]
        self.end_share = np.append(self.row_values[end], 1.0)
        self.end_of_sentence = self._hashes_of(["</s>"])[0][0]

    def _clear(self) -> None:
        self.slot_bits = 16
        self.slots = np.zeros(1 << self.slot_bits, dtype=np.uint64)  # open addressing; key 0 = empty
        self.slot_rows = np.zeros(1 << self.slot_bits, dtype=np.intp)
        self.shares = np.zeros((1, self.row_values.shape[1] + 1))  # per token: share, then id count
        self.used = 1  # row 0: never looked up

    def predict(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Top label index, its probability (before fastText's offset) and the gap to the second, per text.

        The gap is -1 for a line that must go to fastText itself (one with a
        literal ``</s>`` token, which ends fastText's line early).
        """
        n = len(texts)
        if not n:
            return np.zeros(0, dtype=np.intp), np.zeros(0), np.zeros(0)
        hashes, offsets, tokens = self._hashes_of(texts)
        rows = self._rows(hashes, tokens)
        # Sum each line's token shares; a zero row at the end keeps reduceat's
        # offsets in range, and lines without tokens (reduceat's empty
        # slices) are reset.
        sums = np.add.reduceat(np.take(self.shares, np.append(rows, 0), axis=0), offsets, axis=0)
        sums[offsets == np.append(offsets[1:], len(rows))] = 0.0
        sums += self.end_share
        logits = sums[:, :-1] / sums[:, -1:]
        if not self.project:
            logits = logits @ self.output.T
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=1, keepdims=True)
        top = probs.argmax(axis=1)
        best = probs[np.arange(n), top]
        probs[np.arange(n), top] = -1.0
        margin = best - probs.max(axis=1) if probs.shape[1] > 1 else np.ones(n)
        margin[np.searchsorted(offsets, np.flatnonzero(hashes == self.end_of_sentence), side="right") - 1] = -1.0
        return top, best, margin

    def _hashes_of(self, texts: list[str]):
        """Hash of every token (split as fastText does), each line's first token, and the tokens' codes."""
        joined = "\n".join(texts) + "\n"
        codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), np.uint32).astype(np.intp)
        # Token starts and ends alternate among the positions where "is a
        # fastText space" flips; the buffer ends in a space ("\n").
        word = ~np.take(_FASTTEXT_SPACES, np.minimum(codes, 33))
        flips = np.flatnonzero(word[1:] != word[:-1]) + 1
        if word[0]:
            flips = np.concatenate([[0], flips])
        starts, ends = flips[0::2], flips[1::2]
        self._ensure_powers(len(codes) + 1)
        # Polynomial hash: prefix sums of value x multiplier**position, so a
        # token's hash is (prefix[end] - prefix[start]) / multiplier**start.
        prefix = np.zeros(len(codes) + 1, dtype=np.uint64)
        np.cumsum(np.take(self.char_values, codes) * self.powers[: len(codes)], out=prefix[1:])
        hashes = (prefix[ends] - prefix[starts]) * self.inverse_powers[starts] + (ends - starts).astype(np.uint64)
        hashes[hashes == 0] = 1  # 0 marks an empty slot
        lengths = np.fromiter(map(len, texts), np.intp, len(texts))
        offsets = np.searchsorted(starts, np.cumsum(lengths + 1) - lengths - 1)
        return hashes, offsets, (joined, codes, starts, ends)

    def _ensure_powers(self, size: int) -> None:
        if len(self.powers) >= size:
            return
        steps = np.full(max(size, 2 * len(self.powers)), _HASH_MULTIPLIER, dtype=np.uint64)
        steps[0] = 1
        self.powers = np.cumprod(steps)
        steps[1:] = np.uint64(pow(int(_HASH_MULTIPLIER), -1, 2**64))
        self.inverse_powers = np.cumprod(steps)

    def _rows(self, hashes: np.ndarray, tokens) -> np.ndarray:
        """Cache row of every token hash, adding the tokens seen for the first time."""
        rows, missing = self._lookup(hashes)
        if missing.size:
            keys, first = np.unique(hashes[missing], return_index=True)
            if self.used + len(keys) > _MAX_CACHED_TOKENS:  # bound the memory: start over
                self._clear()
                missing = np.arange(len(hashes))
                keys, first = np.unique(hashes, return_index=True)
            joined, codes, starts, ends = tokens
            at = missing[first]
            texts = [joined[start:end] for start, end in zip(starts[at].tolist(), ends[at].tolist())]
            self._add(keys, self._token_shares(texts, codes, starts[at], ends[at]))
            rows, missing = self._lookup(hashes)
        return rows

    def _lookup(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows of known hashes and the positions of unknown ones (linear probing from the top bits)."""
        slot = (hashes >> np.uint64(64 - self.slot_bits)).astype(np.intp)
        rows = np.take(self.slot_rows, slot)
        keys = np.take(self.slots, slot)
        pending = np.flatnonzero(keys != hashes)
        missing = [pending[keys[pending] == 0]]
        pending = pending[keys[pending] != 0]
        mask = len(self.slots) - 1
        while pending.size:  # collisions: probe the next slots
            slot[pending] = (slot[pending] + 1) & mask
            keys = self.slots[slot[pending]]
            hit = keys == hashes[pending]
            rows[pending[hit]] = self.slot_rows[slot[pending[hit]]]
            missing.append(pending[~hit & (keys == 0)])
            pending = pending[~hit & (keys != 0)]
        return rows, np.concatenate(missing)

    def _add(self, keys: np.ndarray, shares: np.ndarray) -> None:
        """Cache new tokens' shares under their (distinct, new) keys."""
        rows = np.arange(self.used, self.used + len(keys))
        if self.used + len(keys) > len(self.shares):
            grown = np.zeros((2 * (self.used + len(keys)), self.shares.shape[1]))
            grown[: self.used] = self.shares[: self.used]
            self.shares = grown
        self.shares[rows] = shares
        self.used += len(keys)
        if 4 * self.used > len(self.slots):  # at most a quarter full: most lookups hit at once
            occupied = np.flatnonzero(self.slots)
            keys, rows = np.concatenate([self.slots[occupied], keys]), np.concatenate([self.slot_rows[occupied], rows])
            while 4 * self.used > (1 << self.slot_bits):
                self.slot_bits += 1
            self.slots = np.zeros(1 << self.slot_bits, dtype=np.uint64)
            self.slot_rows = np.zeros(1 << self.slot_bits, dtype=np.intp)
        slot = (keys >> np.uint64(64 - self.slot_bits)).astype(np.intp)
        mask = len(self.slots) - 1
        while keys.size:  # each round fills free slots, one key per slot; the rest probe on
            free = self.slots[slot] == 0
            _, first = np.unique(slot[free], return_index=True)
            placed = np.flatnonzero(free)[first]
            self.slots[slot[placed]] = keys[placed]
            self.slot_rows[slot[placed]] = rows[placed]
            waiting = np.ones(len(keys), dtype=bool)
            waiting[placed] = False
            keys, rows, slot = keys[waiting], rows[waiting], (slot[waiting] + 1) & mask

    def _token_shares(self, texts: list[str], codes: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Summed row values and id count of ``texts`` (``codes[starts:ends]``), as Dictionary::getLine adds them.

        A token's ids are its vocabulary id, if any, and the ids of its
        character n-grams (computeSubwords on "<token>", FNV-1a hashes of the
        UTF-8 n-grams modulo the bucket count); a token starting with the
        label prefix is a label and adds nothing.
        """
        owners, ids = self._subword_ids(codes, starts, ends)
        vocabulary = [(i, self.word_ids.get(text, -1)) for i, text in enumerate(texts)]
        known = [(i, word_id) for i, word_id in vocabulary if word_id >= 0]
        if known:
            owners = np.concatenate([owners, [i for i, _ in known]])
            ids = np.concatenate([ids, [word_id for _, word_id in known]])
        labels = np.fromiter((text.startswith(self.label_prefix) for text in texts), bool, len(texts))
        counted = ~labels[owners]
        owners, ids = owners[counted], ids[counted]
        values = np.take(self.row_values, ids, axis=0)
        shares = np.empty((len(texts), values.shape[1] + 1))
        for column in range(values.shape[1]):
            shares[:, column] = np.bincount(owners, weights=values[:, column], minlength=len(texts))
        shares[:, -1] = np.bincount(owners, minlength=len(texts))
        return shares

    def _subword_ids(self, codes: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(token index, id) of every character n-gram of "<token>", as fastText's computeSubwords yields them."""
        lengths = ends - starts + 2
        first = np.cumsum(lengths) - lengths  # where each "<token>" starts in `chars`
        owner = np.repeat(np.arange(len(starts)), lengths)
        position = np.arange(lengths.sum())
        chars = np.take(codes, np.minimum(position - np.repeat(first - starts + 1, lengths), len(codes) - 1))
        chars[first] = ord("<")
        chars[first + lengths - 1] = ord(">")
        word_end = np.repeat(first + lengths, lengths)
        owners, ids = [np.zeros(0, dtype=np.intp)], [np.zeros(0, dtype=np.intp)]
        utf8, size = _utf8_bytes(chars)
        hashes = np.full(len(position), 2166136261, dtype=np.uint32)
        begin = position  # n-grams starting here, grown one character per round
        for n in range(1, self.maxn + 1):
            alive = begin + n - 1 < word_end[begin]
            begin, hashes = begin[alive], hashes[alive]
            last = begin + n - 1
            for k in range(int(size[last].max(initial=0))):  # FNV-1a over the character's bytes
                more = size[last] > k
                hashes[more] = (hashes[more] ^ utf8[last[more], k]) * np.uint32(16777619)
            if n < self.minn:
                continue
            keep = np.ones(len(begin), dtype=bool)
            if n == 1:  # "<" and ">" alone are no n-grams
                keep = (begin != first[owner[begin]]) & (begin + 1 != word_end[begin])
            owners.append(owner[begin[keep]])
            ids.append(len(self.word_ids) + (hashes[keep] % np.uint32(self.bucket)).astype(np.intp))
        return np.concatenate(owners), np.concatenate(ids)


_MAX_CACHED_TOKENS = 2_000_000  # ~100 MB of shares; the cache starts over beyond this


def _utf8_bytes(chars: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each character's UTF-8 bytes as fastText's hash reads them, and their number.

    fastText xors each byte as a sign-extended char (int8_t), so bytes from
    0x80 on enter as 0xffffff80 and up.
    """
    chars = chars.astype(np.uint32)
    size = 1 + (chars >= 0x80).astype(np.intp) + (chars >= 0x800) + (chars >= 0x10000)
    utf8 = np.zeros((len(chars), 4), dtype=np.uint32)
    leads = [chars, 0xC0 | chars >> 6, 0xE0 | chars >> 12]
    utf8[:, 0] = np.select([size == 1, size == 2, size == 3], leads, 0xF0 | chars >> 18)
    for k in range(1, 4):
        more = size > k
        utf8[more, k] = 0x80 | (chars[more] >> (6 * (size[more] - 1 - k)).astype(np.uint32)) & 0x3F
    utf8[utf8 >= 0x80] |= np.uint32(0xFFFFFF00)
    return utf8, size
