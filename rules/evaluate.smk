# Evaluation (Marco-MT-Algharb, WMT25, §3): every system on every test set (corpus scores,
# segment scores, error spans), paired bootstrap significance over all systems, then the
# ablation table (Table 2 of the paper) with significance marks and the plots of the report.


rule evaluate:
    input:
        unpack(test_files),
        hyp=hypothesis,
        model=model_path("evaluation"),
        metric_models=[
            path for entry in METRIC_MODEL_ENTRIES for path in model_path(entry)
        ],
    output:
        scores="results/eval/{system}/{pair}.json",
        segments="results/eval/{system}/{pair}.segments.tsv",
        spans="results/eval/{system}/{pair}.spans.json",
    log:
        "logs/eval/{system}/{pair}.log",
    benchmark:
        "results/benchmarks/eval/{system}/{pair}.tsv"
    params:
        tgt_lang=tgt_lang,
        metrics=CFG.evaluate.metrics,
        model=model_spec("evaluation"),
        metric_models={entry: model_spec(entry) for entry in METRIC_MODEL_ENTRIES},
        batch_size=CFG.evaluate.comet_batch_size,
    conda:
        "../envs/algharb.yaml"
    threads: THREADS
    script:
        "../scripts/evaluate.py"


rule significance:
    input:
        segments=[segment_file(system, pair) for system, pair in EVAL_CELLS],
        sources=[pair_files("test", pair)["src"] for pair in PAIRS],
    output:
        tsv=report(
            "results/tables/significance.tsv",
            caption="../report/significance.rst",
            category="Results",
        ),
        families_tsv="results/tables/metric_families.tsv",
        families_md=report(
            "results/tables/metric_families.md",
            caption="../report/metric_families.rst",
            category="Results",
        ),
    log:
        "logs/eval/significance.log",
    benchmark:
        "results/benchmarks/eval/significance.tsv"
    params:
        cells=as_json(EVAL_CELLS),
        metrics=CFG.evaluate.metrics,
        systems=ALL_SYSTEMS,
        pairs=PAIRS,
        tgt_langs=[split_pair(pair)[1] for pair in PAIRS],
        settings=as_json(CFG.evaluate.significance.to_dict()),
        seed=CFG.seed,
        model=model_spec("evaluation"),
        metric_models={entry: model_spec(entry) for entry in METRIC_MODEL_ENTRIES},
    conda:
        "../envs/algharb.yaml"
    threads: 1
    script:
        "../scripts/significance.py"


rule ablation_table:
    input:
        scores=eval_files(),
        significance="results/tables/significance.tsv",
    output:
        tsv=report(
            "results/tables/ablation.tsv",
            caption="../report/ablation.rst",
            category="Results",
        ),
        md="results/tables/ablation.md",
        tex="results/tables/ablation.tex",
        metrics_tsv=report(
            "results/tables/all_metrics.tsv",
            caption="../report/all_metrics.rst",
            category="Results",
        ),
        per_metric=expand(
            "results/tables/ablation_{metric}.{ext}",
            metric=CFG.evaluate.metrics,
            ext=["tsv", "md"],
        ),
    log:
        "logs/eval/ablation_table.log",
    params:
        primary=CFG.evaluate.primary,
        metrics=CFG.evaluate.metrics,
        systems=ALL_SYSTEMS,
        pairs=PAIRS,
        settings=as_json(CFG.evaluate.significance.to_dict()),
    conda:
        "../envs/algharb.yaml"
    threads: 1
    script:
        "../scripts/ablation_table.py"


rule ablation_plot:
    input:
        "results/tables/significance.tsv",
    output:
        report(
            "results/plots/ablation.png",
            caption="../report/ablation_plot.rst",
            category="Results",
        ),
    log:
        "logs/eval/ablation_plot.log",
    params:
        metrics=CFG.evaluate.metrics,
        confidence=CFG.evaluate.significance.confidence,
    conda:
        "../envs/algharb.yaml"
    threads: 1
    script:
        "../scripts/ablation_plot.py"


rule error_spans:
    input:
        [f"results/eval/{system}/{pair}.spans.json" for system, pair in EVAL_CELLS],
    output:
        tsv="results/tables/error_spans.tsv",
        md=report(
            "results/tables/error_spans.md",
            caption="../report/error_spans.rst",
            category="Results",
        ),
    log:
        "logs/eval/error_spans.log",
    params:
        cells=as_json(EVAL_CELLS),
        systems=ALL_SYSTEMS,
        pairs=PAIRS,
    conda:
        "../envs/algharb.yaml"
    threads: 1
    script:
        "../scripts/error_spans.py"


rule training_plot:
    input:
        [trained_model(stage) for stage in TRAINING_PLOT_STAGES],
    output:
        report(
            "results/plots/training.png",
            caption="../report/training.rst",
            category="Training",
        ),
    log:
        "logs/train/training_plot.log",
    params:
        stages=TRAINING_PLOT_STAGES,
    conda:
        "../envs/algharb.yaml"
    threads: 1
    script:
        "../scripts/training_plot.py"
