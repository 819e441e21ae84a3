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
        max_pairs=config["distill"].get("max_pairs_per_direction", 800000),
        sampling=as_json(config["distill"].get("sampling", {})),
        seed=config["seed"],
        clean=as_json(
            config["clean"] if config["distill"].get("refilter", True) else None
        ),
        lid=model_spec("lid"),
        chunk_dir=chunk_cache("distill"),
        chunk_size=config["distill"].get("chunk_size", 10000),
    conda:
        "../envs/algharb.yaml"
    threads: THREADS
    script:
        "../scripts/distill.py"
