# Cleaning (Marco-MT-Algharb, WMT25, §2.2 step 1), sharded so that each filter runs as many
# small jobs: the raw corpus is cut into shards of clean.shard_size lines;
# each shard is normalised and rule/LID-filtered on its own; duplicates and
# the QE quantile are decided over all shards together from small summaries;
# each shard then gets its final kept/rejected files, and the shards are
# merged back in order. Rejected pairs keep a reason: they feed distillation.


checkpoint shard_corpus:
    input:
        corpus_inputs,
    output:
        directory("results/data/{pair}/shards/raw"),
    log:
        "logs/data/{pair}/shard_corpus.log",
    benchmark:
        "results/benchmarks/data/{pair}/shard_corpus.tsv"
    params:
        spec=lambda wc: as_json(CFG.data.corpora[wc.pair]),
        shard_size=CFG.clean.shard_size,
        max_malformed_share=CFG.clean.max_malformed_share,
    conda:
        "../envs/algharb.yaml"
    threads: 1
    priority: PRIORITY_FIRST
    script:
        "../scripts/shard_corpus.py"


rule clean_shard:
    input:
        shard="results/data/{pair}/shards/raw/{shard}.jsonl",
        lid=model_path("lid"),
    output:
        decisions="results/data/{pair}/shards/{shard}/rule_decisions.tsv",
        dedup_keys="results/data/{pair}/shards/{shard}/dedup_keys.npz",
    log:
        "logs/data/{pair}/clean_shard/{shard}.log",
    benchmark:
        "results/benchmarks/data/{pair}/clean_shard/{shard}.tsv"
    params:
        src_lang=src_lang,
        tgt_lang=tgt_lang,
        # The pair's filters and normalisation only: a QE change reruns no shard.
        rules=lambda wc: as_json(CFG.clean.rule_settings(wc.pair)),
        lid=model_spec("lid"),
    conda:
        "../envs/algharb.yaml"
    threads: 1
    priority: PRIORITY_FIRST
    script:
        "../scripts/clean_shard.py"


rule dedup:
    input:
        shard_files("dedup_keys.npz"),
    output:
        "results/data/{pair}/duplicates.npz",
    log:
        "logs/data/{pair}/dedup.log",
    benchmark:
        "results/benchmarks/data/{pair}/dedup.tsv"
    conda:
        "../envs/algharb.yaml"
    threads: 1
    priority: PRIORITY_FIRST
    script:
        "../scripts/dedup.py"


rule score_qe:
    input:
        decisions="results/data/{pair}/shards/{shard}/rule_decisions.tsv",
        duplicates="results/data/{pair}/duplicates.npz",
        model=model_path("qe"),
    output:
        scores="results/data/{pair}/shards/{shard}/qe_scores.tsv",
    log:
        "logs/data/{pair}/score_qe/{shard}.log",
    benchmark:
        "results/benchmarks/data/{pair}/score_qe/{shard}.tsv"
    params:
        model=model_spec("qe"),
        batch_size=CFG.clean.qe.batch_size,
    conda:
        "../envs/algharb.yaml"
    threads: THREADS
    priority: PRIORITY_FIRST
    script:
        "../scripts/score_qe.py"


rule qe_cutoff:
    input:
        shard_files("qe_scores.tsv"),
    output:
        "results/data/{pair}/qe_rejected.npz",
    log:
        "logs/data/{pair}/qe_cutoff.log",
    params:
        src_lang=src_lang,
        tgt_lang=tgt_lang,
        qe=lambda wc: as_json(CFG.clean.qe_for(wc.pair).cut()),
    conda:
        "../envs/algharb.yaml"
    threads: 1
    priority: PRIORITY_FIRST
    script:
        "../scripts/qe_cutoff.py"


rule finalize_shard:
    input:
        decisions="results/data/{pair}/shards/{shard}/rule_decisions.tsv",
        duplicates="results/data/{pair}/duplicates.npz",
        scores="results/data/{pair}/shards/{shard}/qe_scores.tsv",
        qe_rejected="results/data/{pair}/qe_rejected.npz",
    output:
        kept_src="results/data/{pair}/shards/{shard}/kept.src",
        kept_tgt="results/data/{pair}/shards/{shard}/kept.tgt",
        rejected="results/data/{pair}/shards/{shard}/rejected.tsv",
        decisions="results/data/{pair}/shards/{shard}/decisions.tsv",
    log:
        "logs/data/{pair}/finalize_shard/{shard}.log",
    conda:
        "../envs/algharb.yaml"
    threads: 1
    priority: PRIORITY_FIRST
    script:
        "../scripts/finalize_shard.py"


rule merge_shards:
    input:
        shard_files("decisions.tsv"),
    output:
        decisions="results/data/{pair}/decisions.tsv",
        clean="results/data/{pair}/clean.jsonl",
        rejected="results/data/{pair}/rejected.jsonl",
        funnel="results/data/{pair}/funnel.tsv",
    log:
        "logs/data/{pair}/merge_shards.log",
    benchmark:
        "results/benchmarks/data/{pair}/merge_shards.tsv"
    params:
        src_lang=src_lang,
        tgt_lang=tgt_lang,
    conda:
        "../envs/algharb.yaml"
    threads: 1
    priority: PRIORITY_FIRST
    script:
        "../scripts/merge_shards.py"


rule prepare_split:
    input:
        lambda wc: spec_paths(CFG.data.split(wc.section)[wc.pair]),
    output:
        src="results/data/{pair}/{section}.src",
        tgt="results/data/{pair}/{section}.tgt",
    log:
        "logs/data/{pair}/prepare_{section}.log",
    params:
        spec=lambda wc: as_json(CFG.data.split(wc.section)[wc.pair]),
        where=lambda wc: f"data.{wc.section}.{wc.pair}",
    conda:
        "../envs/algharb.yaml"
    threads: 1
    script:
        "../scripts/prepare_split.py"


rule funnel_plot:
    input:
        expand("results/data/{pair}/funnel.tsv", pair=PAIRS),
    output:
        report(
            "results/plots/funnel.png",
            caption="../report/funnel.rst",
            category="Data",
        ),
    log:
        "logs/data/funnel_plot.log",
    params:
        pairs=PAIRS,
    conda:
        "../envs/algharb.yaml"
    threads: 1
    script:
        "../scripts/funnel_plot.py"
