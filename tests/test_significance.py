"""Paired bootstrap resampling: reproducible, agrees with sacrebleu --paired-bs, sane on edge cases."""

import math
import random

import numpy as np
import pandas as pd
import pytest
from sacrebleu.metrics import BLEU, CHRF
from sacrebleu.significance import PairedTest

from algharb.io import write_lines
from algharb.metrics.registry import ResamplingStatistic, segment_mean
from algharb.metrics.sacre import corpus_score, corpus_statistic
from algharb.metrics.significance import (
    bootstrap_counts,
    compare,
    pair_seed,
    paired_p_value,
    percentile_interval,
)
from algharb.steps.evaluate import (
    evaluate_file,
    family_gain_table,
    marked_ablation_table,
    significance_tables,
    span_summary,
)

RESAMPLES = 1000


def _corpus(n: int, seed: int, noise: float) -> tuple[list[str], list[str]]:
    """References of random words and hypotheses that drop/replace words with probability ``noise``."""
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(300)]
    references, hypotheses = [], []
    for _ in range(n):
        reference = [rng.choice(words) for _ in range(rng.randint(4, 14))]
        hypothesis = [w if rng.random() > noise else rng.choice(words) for w in reference]
        references.append(" ".join(reference))
        hypotheses.append(" ".join(hypothesis))
    return hypotheses, references


def _system(references: list[str], seed: int, noise: float) -> list[str]:
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(300)]
    return [" ".join(w if rng.random() > noise else rng.choice(words) for w in r.split()) for r in references]


def _our_p_value(name: str, system, baseline, references, seed: int) -> float:
    counts = bootstrap_counts(len(references), RESAMPLES, seed)
    ours, theirs = corpus_statistic(name, system, references), corpus_statistic(name, baseline, references)
    observed = corpus_score(name, system, references)["score"] - corpus_score(name, baseline, references)["score"]
    return paired_p_value(ours.scores(counts), theirs.scores(counts), observed)


def _sacrebleu_p_value(name: str, system, baseline, references) -> float:
    metric = CHRF(references=[references]) if name == "chrf" else BLEU(references=[references])
    _, results = PairedTest([("baseline", baseline), ("system", system)], {name: metric}, references=None,
                            test_type="bs", n_samples=RESAMPLES)()
    return [v for k, v in results.items() if k != "System"][0][1].p_value


@pytest.mark.parametrize("name", ["chrf", "bleu"])
def test_p_values_agree_with_sacrebleu_paired_bs_within_sampling_error(name):
    _, references = _corpus(150, seed=1, noise=0.0)
    baseline = _system(references, seed=2, noise=0.30)
    checked = 0
    for k, noise in enumerate((0.30, 0.29, 0.28, 0.27)):
        system = _system(references, seed=10 + k, noise=noise)
        theirs = _sacrebleu_p_value(name, system, baseline, references)
        ours = _our_p_value(name, system, baseline, references, seed=777)
        # Each estimate of p has Monte-Carlo standard error sqrt(p(1-p)/R); the two are
        # independent (different draws), so their difference has sqrt(2) times that.
        # 5 standard errors (+ the 1/(R+1) corrections) make a false failure ~1e-6.
        sigma = math.sqrt(max(theirs * (1 - theirs), 1.0 / RESAMPLES) / RESAMPLES)
        assert abs(ours - theirs) <= 5 * math.sqrt(2) * sigma + 2 / (RESAMPLES + 1), (noise, ours, theirs)
        checked += 0.01 < theirs < 0.99
    assert checked >= 2, "the systems must span p-values where the comparison means something"


def test_same_draws_as_sacrebleu_give_the_same_interval():
    # sacrebleu draws with default_rng(12345) (its SACREBLEU_SEED default): same draws, same resampled scores.
    hypotheses, references = _corpus(120, seed=3, noise=0.2)
    counts = bootstrap_counts(len(references), RESAMPLES, 12345)
    ours = corpus_statistic("chrf", hypotheses, references).scores(counts)
    metric = CHRF(references=[references])
    idxs = np.random.default_rng(12345).choice(len(references), size=(RESAMPLES, len(references)), replace=True)
    stats = np.array(metric._extract_corpus_statistics(hypotheses, None), dtype="float32")
    theirs = np.array([metric._compute_score_from_stats(s.sum(0)).score for s in stats[idxs]])
    # sacrebleu sums the statistics in float32, we in float64: equal to float32 precision.
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_bootstrap_is_reproducible_from_its_seed():
    first, again, other = (bootstrap_counts(50, 200, s) for s in (7, 7, 8))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert (first.sum(axis=1) == 50).all()
    assert pair_seed(1, "en-zh") == pair_seed(1, "en-zh") != pair_seed(1, "en-ja")


def test_a_system_compared_with_itself_has_p_1_and_an_interval_containing_0():
    hypotheses, references = _corpus(80, seed=4, noise=0.2)
    counts = bootstrap_counts(80, RESAMPLES, 5)
    for statistic in (corpus_statistic("chrf", hypotheses, references), segment_mean(np.linspace(0, 100, 80))):
        resampled = statistic.scores(counts)
        observed = statistic.score_of(statistic.stats.sum(0), 80)
        comparison = compare(observed, resampled, observed, resampled, 0.95)
        assert comparison.p_value == 1.0
        assert comparison.low <= 0.0 <= comparison.high and comparison.delta == 0.0


def test_confidence_intervals_shrink_as_the_test_set_grows():
    rng = np.random.default_rng(0)
    widths = []
    for n in (50, 200, 800):
        statistic = segment_mean(rng.uniform(0, 100, n))
        low, high = percentile_interval(statistic.scores(bootstrap_counts(n, RESAMPLES, 1)), 0.95)
        widths.append(high - low)
    # The standard error falls as 1/sqrt(n): each 4x larger test set halves the width (give or take).
    assert widths[0] > 1.6 * widths[1] > 1.6 * 1.6 * widths[2]


def test_segment_mean_resamples_the_mean():
    statistic = segment_mean([10.0, 20.0, 60.0])
    counts = np.array([[1.0, 1.0, 1.0], [3.0, 0.0, 0.0], [0.0, 1.0, 2.0]])
    np.testing.assert_allclose(statistic.scores(counts), [30.0, 10.0, 140.0 / 3])
    assert isinstance(statistic, ResamplingStatistic)


def _evaluate(tmp_path, system: str, pair: str, hypotheses, sources, references):
    src, ref, hyp = tmp_path / f"{pair}.src", tmp_path / f"{pair}.ref", tmp_path / f"{system}.{pair}.hyp"
    write_lines(src, sources)
    write_lines(ref, references)
    write_lines(hyp, hypotheses)
    out = tmp_path / "eval" / system
    evaluate_file(src, ref, hyp, out / f"{pair}.json", ["chrf", "bleu"], "qaa", None, 8,
                  segments_path=out / f"{pair}.segments.tsv", spans_path=out / f"{pair}.spans.json")
    return out / f"{pair}.segments.tsv"


def test_significance_tables_mark_rows_and_line_up_with_the_test_set(tmp_path):
    _, references = _corpus(100, seed=6, noise=0.0)
    sources = [f"source {i}" for i in range(100)]
    systems = {"two_step_sft": 0.5, "two_step_rl": 0.5, "hybrid_decode": 0.1}
    files = {}
    for k, (system, noise) in enumerate(systems.items()):
        for pair in ("en-qaa", "en-qab"):
            files[(system, pair)] = _evaluate(tmp_path, system, pair, _system(references, 20 + k, noise),
                                              sources, references)
    tests = {pair: str(tmp_path / f"{pair}.src") for pair in ("en-qaa", "en-qab")}
    long, families = significance_tables(files, tests, ["chrf", "bleu"], list(systems), ["en-qaa", "en-qab"],
                                         {"en-qaa": "qaa", "en-qab": "qab"}, "two_step_rl", 200, 0.95, seed=3)
    hybrid = long[(long["system"] == "hybrid_decode") & (long["metric"] == "chrf")].set_index("pair")
    assert list(hybrid.index) == ["en-qaa", "en-qab", "AVG"]
    assert (hybrid["p_above"] < 0.01).all() and (hybrid["delta_above"] > 0).all()
    assert (hybrid["ci_low"] <= hybrid["score"]).all() and (hybrid["score"] <= hybrid["ci_high"]).all()
    first = long[long["system"] == "two_step_sft"]
    assert (first["above"] == "").all() and first["p_above"].isna().all()
    # Reproducible from the seed.
    again, _ = significance_tables(files, tests, ["chrf", "bleu"], list(systems), ["en-qaa", "en-qab"],
                                   {"en-qaa": "qaa", "en-qab": "qab"}, "two_step_rl", 200, 0.95, seed=3)
    pd.testing.assert_frame_equal(long, again)

    table = pd.DataFrame({"AVG": [50.0, 50.0, 90.0]}, index=list(systems))
    marked = marked_ablation_table(table, long[long["pair"] == "AVG"], "chrf", alpha=0.05)
    assert marked.loc["hybrid_decode", "AVG"] == "90.00†‡"
    assert marked.loc["two_step_sft", "AVG"] == "50.00"

    gains = family_gain_table(families)
    assert list(gains.index) == ["two_step_sft", "hybrid_decode"]
    assert gains.loc["hybrid_decode"].iloc[0].startswith("+")

    # A segment file that does not line up with the test set names both files.
    write_lines(tmp_path / "en-qaa.src", sources[:-1])
    with pytest.raises(ValueError, match=r"segments.tsv has 100 segments but the test set .*en-qaa.src has 99"):
        significance_tables(files, tests, ["chrf"], list(systems), ["en-qaa"], {"en-qaa": "qaa"}, "two_step_rl",
                            50, 0.95, seed=3)
    write_lines(tmp_path / "en-qaa.src", ["other"] + sources[1:])
    with pytest.raises(ValueError, match="does not line up with the test set .*segment 1 has another source"):
        significance_tables(files, tests, ["chrf"], list(systems), ["en-qaa"], {"en-qaa": "qaa"}, "two_step_rl",
                            50, 0.95, seed=3)


def test_segment_table_keeps_texts_and_scores(tmp_path):
    sources, references = ["NA", "b\tc"], ["null", "x y"]
    path = _evaluate(tmp_path, "s", "en-qaa", ["null", "x"], sources, references)
    from algharb.steps.evaluate import read_segment_table

    table = read_segment_table(path)
    assert list(table.columns) == ["id", "source", "hypothesis", "reference", "chrf", "bleu"]
    assert table["source"].tolist() == sources and table["reference"].tolist() == references
    assert table["id"].tolist() == [1, 2] and table.loc[0, "chrf"] == pytest.approx(100.0)


def test_span_summary_counts_severities_and_says_when_there_are_none(tmp_path):
    from algharb.io import write_json

    spans = [[{"severity": "minor"}, {"severity": "major"}], [], [{"severity": "critical"}], []]
    write_json(tmp_path / "a.json", {"xcomet": {"available": True, "segments": spans}})
    write_json(tmp_path / "b.json", {"xcomet": {"available": False, "note": "m (regression_metric) predicts no error spans"}})
    table = span_summary({("a", "en-qaa"): tmp_path / "a.json", ("b", "en-qaa"): tmp_path / "b.json"},
                         ["a", "b"], ["en-qaa"]).set_index("system")
    assert list(table.index) == ["a", "b"]  # one direction: no pooled "all" row
    assert table.loc["a", "minor_per_100"] == 25.0 and table.loc["a", "critical_per_100"] == 25.0
    assert table.loc["a", "major_or_critical_share"] == 50.0
    assert math.isnan(table.loc["b", "major_per_100"]) and "regression_metric" in table.loc["b", "note"]
