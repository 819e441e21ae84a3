# Two-step RL (Marco-MT-Algharb, WMT25, §2.3): candidate pools (SFT samples + the teacher's
# translation) scored by the QE model feed CPO, then dynamic multi-reward
# optimisation on the same sources.


rule rl_sources:
    input:
        lambda wc: CFG.data.rl_sources[wc.lang],
    output:
        "results/rl/sources/{lang}.txt",
    log:
        "logs/rl/sources_{lang}.log",
    params:
        n=CFG.rl.sources_per_language,
        seed=CFG.seed,
        exclude=lambda wc: [
            pair_files("test", p)["src"] for p in PAIRS if split_pair(p)[0] == wc.lang
        ],
    conda:
        "../envs/algharb.yaml"
    threads: 1
    script:
        "../scripts/rl_sources.py"


rule rl_pool:
    input:
        sources=lambda wc: f"results/rl/sources/{split_pair(wc.pair)[0]}.txt",
        policy=trained_model("sft2"),
        teacher=model_path("teacher"),
    output:
        "results/rl/pools/{pair}.jsonl",
    log:
        "logs/rl/pool_{pair}.log",
    benchmark:
        "results/benchmarks/rl/pool_{pair}.tsv"
    params:
        src_lang=src_lang,
        tgt_lang=tgt_lang,
        policy=policy_spec("sft2"),
        teacher=model_spec("teacher"),
        pool=as_json(CFG.rl.pool.to_dict()),
        seed=CFG.seed,
        chunk_dir=chunk_cache("rl_pool"),
    conda:
        "../envs/algharb.yaml"
    threads: THREADS
    script:
        "../scripts/rl_pool.py"


rule rl_pool_qe:
    input:
        pool="results/rl/pools/{pair}.jsonl",
        model=model_path("qe"),
    output:
        "results/rl/pools/{pair}.scored.jsonl",
    log:
        "logs/rl/pool_qe_{pair}.log",
    benchmark:
        "results/benchmarks/rl/pool_qe_{pair}.tsv"
    params:
        model=model_spec("qe"),
        batch_size=CFG.clean.qe.batch_size,
    conda:
        "../envs/algharb.yaml"
    threads: THREADS
    script:
        "../scripts/rl_pool_qe.py"


rule cpo_pairs:
    input:
        expand("results/rl/pools/{pair}.scored.jsonl", pair=PAIRS),
    output:
        pairs="results/rl/cpo_pairs.jsonl",
        stats="results/rl/cpo_pairs_stats.json",
    log:
        "logs/rl/cpo_pairs.log",
    params:
        margin=CFG.rl.cpo.margin,
    conda:
        "../envs/algharb.yaml"
    threads: 1
    script:
        "../scripts/cpo_pairs.py"


rule cpo:
    input:
        model=trained_model("sft2"),
        pairs="results/rl/cpo_pairs.jsonl",
    output:
        directory(trained_model("cpo")),
    log:
        "logs/train/cpo.log",
    benchmark:
        "results/benchmarks/train/cpo.tsv"
    params:
        hparams=as_json(CFG.rl.cpo.trainer_dict()),
        checkpoint_dir=checkpoint_dir("cpo"),
        throughput_log="results/benchmarks/train/cpo_throughput.jsonl",
    conda:
        "../envs/algharb.yaml"
    threads: THREADS
    script:
        "../scripts/cpo.py"


rule dynamic:
    input:
        model=trained_model("cpo"),
        pools=expand("results/rl/pools/{pair}.scored.jsonl", pair=PAIRS),
    output:
        directory(trained_model("dynamic")),
    log:
        "logs/train/dynamic.log",
    benchmark:
        "results/benchmarks/train/dynamic.tsv"
    params:
        hparams=as_json(CFG.rl.dynamic.to_dict()),
        checkpoint_dir=checkpoint_dir("dynamic"),
        throughput_log="results/benchmarks/train/dynamic_throughput.jsonl",
    conda:
        "../envs/algharb.yaml"
    threads: THREADS
    script:
        "../scripts/dynamic.py"
