# Cleaning (seed 000 §2.2 step 1): normalisation, rule filters, language ID,
# then CometKiwi QE on the survivors. Rejected pairs are kept with a reason:
# they feed the distillation stage.


rule clean_rules:
    input:
        unpack(lambda wc: pair_files("corpora", wc.pair)),
        lid=model_path("lid"),
    output:
        decisions="results/data/{pair}/rule_decisions.tsv",
    log:
        "logs/data/{pair}/clean_rules.log",
    benchmark:
        "results/benchmarks/data/{pair}/clean_rules.tsv"
    params:
        src_lang=src_lang,
        tgt_lang=tgt_lang,
        clean=as_json(config["clean"]),
        lid=model_spec("lid"),
    conda:
        "../envs/algharb.yaml"
    threads: 1
    script:
        "../scripts/clean_rules.py"


rule score_qe:
    input:
        decisions="results/data/{pair}/rule_decisions.tsv",
        model=model_path("qe"),
    output:
        scores="results/data/{pair}/qe_scores.tsv",
    log:
        "logs/data/{pair}/score_qe.log",
    benchmark:
        "results/benchmarks/data/{pair}/score_qe.tsv"
    params:
        model=model_spec("qe"),
        batch_size=config["clean"]["qe"].get("batch_size", 64),
    conda:
        "../envs/algharb.yaml"
    threads: THREADS
    script:
        "../scripts/score_qe.py"


rule apply_qe:
    input:
        decisions="results/data/{pair}/rule_decisions.tsv",
        scores="results/data/{pair}/qe_scores.tsv",
    output:
        decisions="results/data/{pair}/decisions.tsv",
        clean="results/data/{pair}/clean.jsonl",
        rejected="results/data/{pair}/rejected.jsonl",
        funnel="results/data/{pair}/funnel.tsv",
    log:
        "logs/data/{pair}/apply_qe.log",
    params:
        src_lang=src_lang,
        tgt_lang=tgt_lang,
        clean=as_json(config["clean"]),
    conda:
        "../envs/algharb.yaml"
    threads: 1
    script:
        "../scripts/apply_qe.py"


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


rule filter_quality:
    input:
        decisions=expand("results/data/{pair}/decisions.tsv", pair=PAIRS),
        labels=[config["data"]["noise_labels"][p] for p in PAIRS],
    output:
        tsv=report(
            "results/tables/filter_quality.tsv",
            caption="../report/filter_quality.rst",
            category="Data",
        ),
        md="results/tables/filter_quality.md",
    log:
        "logs/data/filter_quality.log",
    params:
        pairs=PAIRS,
    conda:
        "../envs/algharb.yaml"
    threads: 1
    script:
        "../scripts/filter_quality.py"
