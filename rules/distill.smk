# Distillation (Marco-MT-Algharb, WMT25, §2.2 step 2): the teacher re-translates the sources of
# the pairs the cleaning stage rejected; its outputs pass the rule filters again.


rule distill:
    input:
        rejected="results/data/{pair}/rejected.jsonl",
        teacher=model_path("teacher"),
        lid=model_path("lid"),
    output:
        distilled="results/distill/{pair}/distilled.jsonl",
        stats="results/distill/{pair}/stats.json",
    log:
        "logs/distill/{pair}.log",
    benchmark:
        "results/benchmarks/distill/{pair}.tsv"
    params:
        src_lang=src_lang,
        tgt_lang=tgt_lang,
        teacher=model_spec("teacher"),
        max_pairs=CFG.distill.max_pairs_per_direction,
        sampling=as_json(CFG.distill.sampling),
        seed=CFG.seed,
        refilter=lambda wc: as_json(
            CFG.clean.rule_settings(wc.pair) if CFG.distill.refilter else None
        ),
        lid=model_spec("lid"),
        chunk_dir=chunk_cache("distill"),
        chunk_size=CFG.distill.chunk_size,
    conda:
        "../envs/algharb.yaml"
    threads: THREADS
    priority: PRIORITY_CHAIN
    script:
        "../scripts/distill.py"
