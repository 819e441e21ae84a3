# Decoding (Marco-MT-Algharb, WMT25, §2.4): greedy output of the SFT and RL models for the
# baseline rows, and hybrid MBR + word-alignment selection over N samples.


rule translate_baseline:
    input:
        unpack(test_files),
        model=lambda wc: trained_model(SYSTEM_MODEL[wc.system]),
    output:
        "results/hyp/{system}/{pair}.txt",
    log:
        "logs/decode/{system}/{pair}.log",
    benchmark:
        "results/benchmarks/decode/{system}/{pair}.tsv"
    wildcard_constraints:
        system="|".join(SYSTEM_MODEL),
    params:
        src_lang=src_lang,
        tgt_lang=tgt_lang,
        model=lambda wc: policy_spec(SYSTEM_MODEL[wc.system]),
        sampling=as_json(CFG.decode.baseline_sampling),
    conda:
        "../envs/algharb.yaml"
    threads: THREADS
    script:
        "../scripts/translate.py"


rule candidates:
    input:
        unpack(test_files),
        model=trained_model("dynamic"),
    output:
        "results/decode/{pair}/candidates.jsonl",
    log:
        "logs/decode/candidates_{pair}.log",
    benchmark:
        "results/benchmarks/decode/candidates_{pair}.tsv"
    params:
        src_lang=src_lang,
        tgt_lang=tgt_lang,
        model=policy_spec("dynamic"),
        n=CFG.decode.candidates.n,
        sampling=as_json(CFG.decode.candidates.sampling),
        seed=CFG.seed,
        chunk_dir=chunk_cache("candidates"),
        chunk_size=CFG.decode.candidates.chunk_size,
    conda:
        "../envs/algharb.yaml"
    threads: THREADS
    script:
        "../scripts/candidates.py"


rule hybrid_scores:
    input:
        candidates="results/decode/{pair}/candidates.jsonl",
        utility=model_path("utility"),
        reference="results/data/{pair}/clean.jsonl",
        aligner=(
            [CFG.decode.align.model["path"]]
            if CFG.decode.align.model and "path" in CFG.decode.align.model
            else []
        ),
    output:
        "results/decode/{pair}/scores.jsonl",
    log:
        "logs/decode/scores_{pair}.log",
    benchmark:
        "results/benchmarks/decode/scores_{pair}.tsv"
    params:
        tgt_lang=tgt_lang,
        utility_model=model_spec("utility"),
        # What scoring depends on: changing how scores are aggregated reruns selection only.
        mbr=as_json(CFG.decode.mbr.scoring()),
        align=as_json(CFG.decode.align.to_dict()),
    conda:
        "../envs/algharb.yaml"
    threads: THREADS
    script:
        "../scripts/hybrid_scores.py"


rule hybrid_select:
    input:
        "results/decode/{pair}/scores.jsonl",
    output:
        hyp="results/hyp/hybrid_decode/{pair}.txt",
        selections="results/decode/{pair}/selected.jsonl",
    log:
        "logs/decode/select_{pair}.log",
    params:
        lam=CFG.decode.lambda_,
        mbr=as_json(CFG.decode.mbr.selection()),
    conda:
        "../envs/algharb.yaml"
    threads: 1
    script:
        "../scripts/hybrid_select.py"


rule lambda_sweep:
    input:
        scores=expand("results/decode/{pair}/scores.jsonl", pair=PAIRS),
        references=[pair_files("test", p)["tgt"] for p in PAIRS],
    output:
        tsv=report(
            "results/tables/lambda_sweep.tsv",
            caption="../report/lambda_sweep.rst",
            category="Decoding",
        ),
        md="results/tables/lambda_sweep.md",
        png=report(
            "results/plots/lambda_sweep.png",
            caption="../report/lambda_sweep.rst",
            category="Decoding",
        ),
    log:
        "logs/decode/lambda_sweep.log",
    params:
        pairs=PAIRS,
        lambdas=CFG.decode.lambda_sweep,
        mbr=as_json(CFG.decode.mbr.selection()),
        # Demo only: the world's oracle adds an omission column (None elsewhere).
        world=as_json(
            demo_layout.oracle_config(CFG.demo and CFG.demo.world, CFG.seed, PAIRS)
        ),
    conda:
        "../envs/algharb.yaml"
    threads: 1
    script:
        "../scripts/lambda_sweep.py"
