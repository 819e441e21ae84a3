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
