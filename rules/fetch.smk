# Downloads for the paper's configuration (config/wmt25.yaml): run on a
# connected machine, or put the files in place by hand; the demo never needs them.

FETCH = CFG.fetch


rule fetch_corpus:
    output:
        src="results/raw/{pair}/train.src",
        tgt="results/raw/{pair}/train.tgt",
    log:
        "logs/fetch/corpus_{pair}.log",
    params:
        recipe=lambda wc: FETCH["corpora"][wc.pair],
    conda:
        "../envs/algharb.yaml"
    threads: 1
    script:
        "../scripts/fetch_corpus.py"


rule fetch_testset:
    output:
        src="results/raw/{pair}/test.src",
        ref="results/raw/{pair}/test.ref",
    log:
        "logs/fetch/test_{pair}.log",
    params:
        recipe=lambda wc: FETCH["test"][wc.pair],
    conda:
        "../envs/algharb.yaml"
    threads: 1
    script:
        "../scripts/fetch_testset.py"


rule fetch_rl_sources:
    output:
        "results/raw/rl/{lang}.txt",
    log:
        "logs/fetch/rl_{lang}.log",
    params:
        testsets=lambda wc: FETCH["rl_sources"][wc.lang],
    conda:
        "../envs/algharb.yaml"
    threads: 1
    script:
        "../scripts/fetch_rl_sources.py"


rule fetch_release:
    output:
        "results/raw/releases/{release}.jsonl",
    log:
        "logs/fetch/release_{release}.log",
    params:
        url=lambda wc: FETCH["releases"][wc.release],
    conda:
        "../envs/algharb.yaml"
    threads: 1
    script:
        "../scripts/fetch_wmt_release.py"


# Collab-MT's data (config/collab_mt.yaml). ALT: its own train/dev/test split by article.
rule fetch_alt:
    output:
        expand(
            "results/raw/alt/{split}.{lang}",
            split=["train", "dev", "test"],
            lang=FETCH.get("alt", {}).get("langs", ["en", "ja"]),
        ),
    log:
        "logs/fetch/alt.log",
    params:
        recipe=FETCH.get("alt", {}),
        out_dir=lambda wc, output: str(Path(output[0]).parent),
    conda:
        "../envs/algharb.yaml"
    threads: 1
    script:
        "../scripts/fetch_alt.py"


# Both sides of a sacrebleu test set, e.g. results/raw/sacrebleu/wmt18/en-de.de.
rule fetch_sacrebleu_pair:
    output:
        src="results/raw/sacrebleu/{testset}/{src}-{tgt}.{src}",
        tgt="results/raw/sacrebleu/{testset}/{src}-{tgt}.{tgt}",
    log:
        "logs/fetch/sacrebleu_{testset}_{src}-{tgt}.log",
    wildcard_constraints:
        src="[a-z]{2,3}",
        tgt="[a-z]{2,3}",
    conda:
        "../envs/algharb.yaml"
    threads: 1
    script:
        "../scripts/fetch_sacrebleu_pair.py"


# A seeded train/test sample of a fetched corpus (fetch.samples.{name}: pair, n_train, n_test).
rule sample_train_test:
    input:
        src=lambda wc: f"results/raw/{FETCH['samples'][wc.name]['pair']}/train.src",
        tgt=lambda wc: f"results/raw/{FETCH['samples'][wc.name]['pair']}/train.tgt",
    output:
        train_src="results/raw/samples/{name}/train.src",
        train_tgt="results/raw/samples/{name}/train.tgt",
        test_src="results/raw/samples/{name}/test.src",
        test_tgt="results/raw/samples/{name}/test.tgt",
    log:
        "logs/fetch/sample_{name}.log",
    params:
        n_train=lambda wc: FETCH["samples"][wc.name]["n_train"],
        n_test=lambda wc: FETCH["samples"][wc.name]["n_test"],
        seed=CFG.seed,
    conda:
        "../envs/algharb.yaml"
    threads: 1
    script:
        "../scripts/sample_train_test.py"
