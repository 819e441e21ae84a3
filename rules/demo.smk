# The demo world: builds, with the real libraries, a small offline stand-in for
# every external artefact (corpora, base model, teacher, LID, COMET models).
# Only reached when the config points at results/demo/...


rule demo_world:
    output:
        demo_world_files(),
    log:
        "logs/demo/world.log",
    params:
        world=as_json(config.get("demo", {}).get("world", {})),
        pairs=PAIRS,
        seed=config["seed"],
        out_dir=lambda wc, output: str(Path(output[0]).parents[1]),
    conda:
        "../envs/algharb.yaml"
    threads: 1
    script:
        "../scripts/demo_world.py"


rule demo_tokenizer:
    input:
        demo_split("teacher"),
    output:
        directory(f"{DEMO_MODELS}/tokenizer"),
    log:
        "logs/demo/tokenizer.log",
    params:
        vocab_size=config.get("demo", {}).get("tokenizer", {}).get("vocab_size", 1500),
    conda:
        "../envs/algharb.yaml"
    threads: 1
    priority: 10
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
        architecture=as_json(config.get("demo", {}).get("base_model", {})),
        seed=config["seed"],
    conda:
        "../envs/algharb.yaml"
    threads: 1
    priority: 10
    script:
        "../scripts/demo_base_model.py"


rule demo_teacher:
    input:
        base=f"{DEMO_MODELS}/base",
        data=demo_split("teacher"),
    output:
        directory(f"{DEMO_MODELS}/teacher"),
    log:
        "logs/demo/teacher.log",
    benchmark:
        "results/benchmarks/demo_teacher.tsv"
    params:
        hparams=as_json(config.get("demo", {}).get("teacher", {})),
        pairs=PAIRS,
        seed=config["seed"],
        checkpoint_dir=checkpoint_dir("demo_teacher"),
    conda:
        "../envs/algharb.yaml"
    threads: THREADS
    priority: 10
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
        options=as_json(config.get("demo", {}).get("lid", {})),
        seed=config["seed"],
    conda:
        "../envs/algharb.yaml"
    threads: 1
    script:
        "../scripts/demo_lid.py"


rule demo_comet_encoder:
    input:
        demo_split("metric"),
    output:
        directory(f"{DEMO_MODELS}/comet_encoder"),
    log:
        "logs/demo/comet_encoder.log",
    params:
        seed=config["seed"],
    conda:
        "../envs/algharb.yaml"
    threads: 1
    script:
        "../scripts/demo_comet_encoder.py"


# Which COMET architecture stands in for which real model.
DEMO_COMET_KIND = {"cometkiwi": "qe", "comet22": "ref", "xcomet": "ref"}


rule demo_comet:
    input:
        encoder=f"{DEMO_MODELS}/comet_encoder",
        data=demo_split("metric"),
    output:
        directory(f"{DEMO_MODELS}/{{standin}}"),
    log:
        "logs/demo/{standin}.log",
    benchmark:
        "results/benchmarks/demo_{standin}.tsv"
    wildcard_constraints:
        standin="|".join(DEMO_COMET_KIND),
    params:
        kind=lambda wc: DEMO_COMET_KIND[wc.standin],
        options=as_json(config.get("demo", {}).get("comet", {})),
        pairs=PAIRS,
        # Each stand-in gets its own seed, so the evaluation metric is not
        # the very model used as MBR utility (no shared blind spots).
        seed=lambda wc: config["seed"] + list(DEMO_COMET_KIND).index(wc.standin),
    conda:
        "../envs/algharb.yaml"
    threads: 1
    script:
        "../scripts/demo_comet.py"
