# The demo world: builds, with the real libraries, a small offline stand-in for
# every external artefact (corpora, base model, teacher, LID, COMET models).
# Only reached when the config points at results/demo/...

# The demo section's settings (defaults when the config has none: the rules
# below are then never reached); the file layout comes from algharb.demo.layout.
DEMO = CFG.demo or DemoConfig()
DEMO_MODELS = demo_layout.MODELS
DEMO_WORLD = demo_layout.WORLD


rule demo_world:
    output:
        demo_layout.world_files(PAIRS, DEMO.world.get("domain_pairs", [])),
    log:
        "logs/demo/world.log",
    params:
        world=as_json(DEMO.world),
        pairs=PAIRS,
        seed=CFG.seed,
        out_dir=lambda wc, output: str(Path(output[0]).parents[1]),
    conda:
        "../envs/algharb.yaml"
    threads: 1
    script:
        "../scripts/demo_world.py"


rule demo_tokenizer:
    input:
        demo_layout.split_files("teacher", PAIRS),
    output:
        directory(f"{DEMO_MODELS}/tokenizer"),
    log:
        "logs/demo/tokenizer.log",
    params:
        vocab_size=DEMO.tokenizer.vocab_size,
    conda:
        "../envs/algharb.yaml"
    threads: 1
    priority: PRIORITY_FIRST
    script:
        "../scripts/demo_tokenizer.py"


rule demo_base_model:
    input:
        tokenizer=f"{DEMO_MODELS}/tokenizer",
    output:
        directory(f"{DEMO_MODELS}/base"),
    log:
        "logs/demo/base_model.log",
    params:
        architecture=as_json(DEMO.base_model.to_dict()),
        seed=CFG.seed,
    conda:
        "../envs/algharb.yaml"
    threads: 1
    priority: PRIORITY_FIRST
    script:
        "../scripts/demo_base_model.py"


rule demo_teacher:
    input:
        base=f"{DEMO_MODELS}/base",
        data=demo_layout.split_files("teacher", PAIRS),
    output:
        directory(f"{DEMO_MODELS}/teacher"),
    log:
        "logs/demo/teacher.log",
    benchmark:
        "results/benchmarks/demo_teacher.tsv"
    params:
        hparams=as_json(DEMO.teacher.to_dict()),
        pairs=PAIRS,
        seed=CFG.seed,
        checkpoint_dir=checkpoint_dir("demo_teacher"),
    conda:
        "../envs/algharb.yaml"
    threads: THREADS
    priority: PRIORITY_FIRST
    script:
        "../scripts/demo_teacher.py"


rule demo_lid:
    input:
        train=f"{DEMO_WORLD}/lid/train.txt",
        valid=f"{DEMO_WORLD}/lid/valid.txt",
    output:
        model=f"{DEMO_MODELS}/lid.bin",
        accuracy=f"{DEMO_MODELS}/lid_accuracy.json",
    log:
        "logs/demo/lid.log",
    params:
        options=as_json(DEMO.lid.to_dict()),
        seed=CFG.seed,
    conda:
        "../envs/algharb.yaml"
    threads: 1
    script:
        "../scripts/demo_lid.py"


rule demo_comet_encoder:
    input:
        demo_layout.split_files("metric", PAIRS),
    output:
        directory(f"{DEMO_MODELS}/comet_encoder"),
    log:
        "logs/demo/comet_encoder.log",
    params:
        seed=CFG.seed,
    conda:
        "../envs/algharb.yaml"
    threads: 1
    script:
        "../scripts/demo_comet_encoder.py"


# Which COMET architecture stands in for which real model.
DEMO_COMET_KIND = {"cometkiwi": "qe", "comet22": "ref", "xcomet": "unified"}


rule demo_comet:
    input:
        encoder=f"{DEMO_MODELS}/comet_encoder",
        data=demo_layout.split_files("metric", PAIRS),
    output:
        directory(f"{DEMO_MODELS}/{{standin}}"),
    log:
        "logs/demo/{standin}.log",
    benchmark:
        "results/benchmarks/demo_{standin}.tsv"
    wildcard_constraints:
        standin="comet22|xcomet",
    params:
        kind=lambda wc: DEMO_COMET_KIND[wc.standin],
        options=as_json(DEMO.comet.to_dict()),
        pairs=PAIRS,
        # Each stand-in gets its own seed, so the evaluation metric is not
        # the very model used as MBR utility (no shared blind spots).
        seed=lambda wc: CFG.seed + list(DEMO_COMET_KIND).index(wc.standin),
    conda:
        "../envs/algharb.yaml"
    threads: 1
    script:
        "../scripts/demo_comet.py"


# The QE stand-in gates the cleaning, hence step-1 SFT: it is trained first.
use rule demo_comet as demo_qe_standin with:
    wildcard_constraints:
        standin="cometkiwi",
    priority: PRIORITY_FIRST


# How well the cleaning stage caught the world's injected noise (its labels are the ground truth).
rule filter_quality:
    input:
        decisions=expand("results/data/{pair}/decisions.tsv", pair=PAIRS),
        labels=[NOISE_LABELS[p] for p in PAIRS if p in NOISE_LABELS],
    output:
        tsv=report(
            "results/tables/filter_quality.tsv",
            caption="../report/filter_quality.rst",
            category="Data",
        ),
        md="results/tables/filter_quality.md",
        filters_tsv=report(
            "results/tables/filter_precision_recall.tsv",
            caption="../report/filter_precision_recall.rst",
            category="Data",
        ),
        filters_md="results/tables/filter_precision_recall.md",
    log:
        "logs/data/filter_quality.log",
    params:
        pairs=PAIRS,
    conda:
        "../envs/algharb.yaml"
    threads: 1
    script:
        "../scripts/filter_quality.py"
