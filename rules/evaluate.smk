# Evaluation (Marco-MT-Algharb, WMT25, §3): every system on every test set, then the ablation
# table (Table 2 of the paper) and the plots of the report.


rule evaluate:
    input:
        unpack(test_files),
        hyp=hypothesis,
        model=model_path("evaluation"),
    output:
        "results/eval/{system}/{pair}.json",
    log:
        "logs/eval/{system}/{pair}.log",
    benchmark:
        "results/benchmarks/eval/{system}/{pair}.tsv"
    params:
        tgt_lang=tgt_lang,
        metrics=CFG.evaluate.metrics,
        model=model_spec("evaluation"),
        batch_size=CFG.evaluate.comet_batch_size,
    conda:
        "../envs/algharb.yaml"
    threads: THREADS
    script:
        "../scripts/evaluate.py"


rule ablation_table:
    input:
        eval_files(),
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
    conda:
        "../envs/algharb.yaml"
    threads: 1
    script:
        "../scripts/ablation_table.py"


rule ablation_plot:
    input:
        "results/tables/all_metrics.tsv",
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
    conda:
        "../envs/algharb.yaml"
    threads: 1
    script:
        "../scripts/ablation_plot.py"


rule training_plot:
    input:
        expand("results/models/{stage}", stage=["sft1", "sft2", "cpo", "dynamic"]),
    output:
        report(
            "results/plots/training.png",
            caption="../report/training.rst",
            category="Training",
        ),
    log:
        "logs/train/training_plot.log",
    params:
        stages=["sft1", "sft2", "cpo", "dynamic"],
    conda:
        "../envs/algharb.yaml"
    threads: 1
    script:
        "../scripts/training_plot.py"
