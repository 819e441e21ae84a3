# Decoding (Marco-MT-Algharb, WMT25, §2.4): greedy output of the SFT and RL models for the
# baseline rows, and hybrid MBR + word-alignment selection over N samples. Configured models
# (evaluate.models) get the same decodings as their own rows, without any training stage.


rule translate_baseline:
    input:
        unpack(test_files),
        model=row_model_input,
    output:
        "results/hyp/{system}/{pair}.txt",
    log:
        "logs/decode/{system}/{pair}.log",
    benchmark:
        "results/benchmarks/decode/{system}/{pair}.tsv"
    wildcard_constraints:
        system="|".join(re.escape(s) for s in GREEDY_SYSTEMS),
    params:
        src_lang=src_lang,
        tgt_lang=tgt_lang,
        model=lambda wc: row_generator(wc.system),
        sampling=greedy_sampling,
    conda:
        "../envs/algharb.yaml"
    threads: THREADS
    script:
        "../scripts/translate.py"


rule candidates:
    input:
        unpack(test_files),
        model=row_model_input,
    output:
        f"{decode_dir()}/candidates.jsonl",
    log:
        "logs/decode/{system}/candidates_{pair}.log",
    benchmark:
        "results/benchmarks/decode/{system}/candidates_{pair}.tsv"
    wildcard_constraints:
        system="|".join(re.escape(s) for s in HYBRID_SYSTEMS),
    params:
        src_lang=src_lang,
        tgt_lang=tgt_lang,
        model=lambda wc: row_generator(wc.system),
        n=lambda wc: row_candidates(wc.system).n,
        sampling=lambda wc: as_json(row_candidates(wc.system).sampling),
        seed=CFG.seed,
        chunk_dir="results/cache/candidates/{system}/{pair}",
        chunk_size=lambda wc: row_candidates(wc.system).chunk_size,
    conda:
        "../envs/algharb.yaml"
    threads: THREADS
    priority: PRIORITY_CHAIN
    script:
        "../scripts/candidates.py"


rule hybrid_scores:
    input:
        candidates=f"{decode_dir()}/candidates.jsonl",
        utility=model_path("utility"),
        reference="results/data/{pair}/clean.jsonl",
        aligner=ALIGNER_MODEL,
    output:
        f"{decode_dir()}/scores.jsonl",
    log:
        "logs/decode/{system}/scores_{pair}.log",
    benchmark:
        "results/benchmarks/decode/{system}/scores_{pair}.tsv"
    wildcard_constraints:
        system="|".join(re.escape(s) for s in HYBRID_SYSTEMS),
    params:
        tgt_lang=tgt_lang,
        utility_model=model_spec("utility"),
        # What scoring depends on: changing how scores are aggregated reruns selection only.
        mbr=as_json(CFG.decode.mbr.scoring()),
        align=as_json(CFG.decode.align.to_dict()),
    conda:
        "../envs/algharb.yaml"
    threads: THREADS
    priority: PRIORITY_CHAIN
    script:
        "../scripts/hybrid_scores.py"


rule hybrid_select:
    input:
        f"{decode_dir()}/scores.jsonl",
    output:
        hyp="results/hyp/{system}/{pair}.txt",
        selections=f"{decode_dir()}/selected.jsonl",
    log:
        "logs/decode/{system}/select_{pair}.log",
    wildcard_constraints:
        system="|".join(re.escape(s) for s in HYBRID_SYSTEMS),
    params:
        lam=CFG.decode.lambda_,
        mbr=as_json(CFG.decode.mbr.selection()),
    conda:
        "../envs/algharb.yaml"
    threads: 1
    priority: PRIORITY_CHAIN
    script:
        "../scripts/hybrid_select.py"


rule lambda_sweep:
    input:
        scores=[f"{decode_dir('hybrid_decode', pair)}/scores.jsonl" for pair in PAIRS],
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
