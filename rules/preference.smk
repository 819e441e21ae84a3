# Two-step RL (Marco-MT-Algharb, WMT25, §2.3): candidate pools (SFT samples + the teacher's
# translation) scored by the pair scorers feed CPO, then dynamic multi-reward optimisation on
# the same sources. Other preference methods (DPO, CPO on noised rejected translations, M2PO)
# train from the same SFT checkpoint on the same pools for the comparison table.


rule rl_sources:
    input:
        lambda wc: CFG.data.rl_sources[wc.lang],
    output:
        sources="results/rl/sources/{lang}.txt",
        # Where each source is in the input file: its reference's line (data.rl_references).
        lines="results/rl/sources/{lang}.lines",
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
        references=lambda wc: rl_reference_inputs(wc.pair),
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
    priority: PRIORITY_CHAIN
    script:
        "../scripts/rl_pool.py"


rule rl_pool_qe:
    input:
        pool="results/rl/pools/{pair}.jsonl",
        models=PAIR_SCORER_MODELS,
        reference=(["results/data/{pair}/clean.jsonl"] if POOLS_ALIGNED else []),
        aligner=ALIGNER_MODEL if POOLS_ALIGNED else [],
    output:
        "results/rl/pools/{pair}.scored.jsonl",
    log:
        "logs/rl/pool_qe_{pair}.log",
    benchmark:
        "results/benchmarks/rl/pool_qe_{pair}.tsv"
    params:
        scorers=as_json(PAIR_SCORERS),
        batch_size=CFG.clean.qe.batch_size,
        # S_align for the methods whose reward reads it (M2PO), as hybrid decoding scores it.
        align=as_json(CFG.decode.align.to_dict() if POOLS_ALIGNED else None),
        tgt_lang=tgt_lang,
    conda:
        "../envs/algharb.yaml"
    threads: THREADS
    priority: PRIORITY_CHAIN
    script:
        "../scripts/rl_pool_qe.py"


rule preference_pairs:
    input:
        expand("results/rl/pools/{pair}.scored.jsonl", pair=PAIRS),
    output:
        real=PREFERENCE_DATA["pairs"],
        noised=PREFERENCE_DATA["noised_pairs"],
        stats="results/rl/pairs/stats.json",
    log:
        "logs/rl/preference_pairs.log",
    params:
        margin=CFG.rl.pairs.margin,
        seed=CFG.seed,
        p_delete=CFG.rl.pairs.noise.p_delete,
        p_swap=CFG.rl.pairs.noise.p_swap,
    conda:
        "../envs/algharb.yaml"
    threads: 1
    priority: PRIORITY_CHAIN
    script:
        "../scripts/preference_pairs.py"


# One method of a chain (rl.stages, rl.compare): CPO, DPO, dynamic or M2PO, trained from the
# model the chain's previous method saved (step-2 SFT for the first).
rule preference_train:
    input:
        model=lambda wc: chain_base_model(wc.chain),
        data=lambda wc: chain_data(wc.chain),
    output:
        directory(trained_model("{chain}")),
    log:
        "logs/train/{chain}.log",
    benchmark:
        "results/benchmarks/train/{chain}.tsv"
    wildcard_constraints:
        chain=CHAIN_PATTERN,
    params:
        stage=lambda wc: chain_method(wc.chain).stage,
        hparams=lambda wc: as_json(
            getattr(CFG.rl, chain_method(wc.chain).section).to_dict()
        ),
        checkpoint_dir=lambda wc: checkpoint_dir(wc.chain),
        throughput_log="results/benchmarks/train/{chain}_throughput.jsonl",
    conda:
        "../envs/algharb.yaml"
    threads: THREADS
    priority: PRIORITY_CHAIN
    script:
        "../scripts/preference_train.py"


# The comparison table (ALMA-R's and M2PO's analyses): every compared chain decoded greedily
# and evaluated like the ablation rows, plus the pair-picking score of its outputs.
rule preference_qe:
    input:
        src=lambda wc: pair_files("test", wc.pair)["src"],
        hyps=[hyp_file(system, "{pair}") for system in COMPARE_ROWS],
        models=PAIR_SCORER_MODELS,
    output:
        "results/rl/compare/qe_{pair}.tsv",
    log:
        "logs/rl/compare_qe_{pair}.log",
    benchmark:
        "results/benchmarks/rl/compare_qe_{pair}.tsv"
    params:
        systems=list(COMPARE_ROWS),
        scorers=as_json(PAIR_SCORERS),
        batch_size=CFG.clean.qe.batch_size,
    conda:
        "../envs/algharb.yaml"
    threads: THREADS
    script:
        "../scripts/preference_qe.py"


rule preference_table:
    input:
        segments=[segment_file(system, pair) for system, pair in COMPARE_CELLS],
        qe=expand("results/rl/compare/qe_{pair}.tsv", pair=PAIRS),
        sources=[pair_files("test", pair)["src"] for pair in PAIRS],
    output:
        tsv="results/tables/preference.tsv",
        md=report(
            "results/tables/preference.md",
            caption="../report/preference.rst",
            category="Preference optimisation",
        ),
        tex="results/tables/preference.tex",
    log:
        "logs/rl/preference_table.log",
    params:
        cells=as_json(COMPARE_CELLS),
        # [system, label] in table order (a JSON object's keys would be sorted).
        rows=as_json([[system, label] for system, (label, _) in COMPARE_ROWS.items()]),
        pairs=PAIRS,
        tgt_langs=[split_pair(pair)[1] for pair in PAIRS],
        primary=CFG.evaluate.primary,
        metrics=CFG.evaluate.metrics,
        settings=as_json(CFG.evaluate.significance.to_dict()),
        seed=CFG.seed,
        scorers=as_json(CFG.rl.pairs.scorers),
        model=model_spec("evaluation"),
        metric_models={entry: model_spec(entry) for entry in METRIC_MODEL_ENTRIES},
        # Demo only: the world's oracle adds an omission column (None elsewhere).
        world=as_json(
            demo_layout.oracle_config(CFG.demo and CFG.demo.world, CFG.seed, PAIRS)
        ),
    conda:
        "../envs/algharb.yaml"
    threads: 1
    script:
        "../scripts/preference_table.py"


# How well the scores that pick the pairs rank the pools (the reference first? τ with chrF), before training.
rule reward_ranking:
    input:
        expand("results/rl/pools/{pair}.scored.jsonl", pair=PAIRS),
    output:
        tsv="results/tables/preference_reward.tsv",
        md=report(
            "results/tables/preference_reward.md",
            caption="../report/preference_reward.rst",
            category="Preference optimisation",
        ),
    log:
        "logs/rl/reward_ranking.log",
    params:
        pairs=PAIRS,
    conda:
        "../envs/algharb.yaml"
    threads: 1
    script:
        "../scripts/reward_ranking.py"


rule preference:
    input:
        "results/tables/preference.md",
        "results/tables/preference_reward.md",
