# The demo world: builds, with the real libraries, a small offline stand-in for
# every external artefact (corpora, base model, teacher, LID, COMET models).
# Only reached when the config points at results/demo/...

# The demo section's settings (defaults when the config has none: the rules
# below are then never reached).
DEMO = CFG.demo or DemoConfig()
DEMO_WORLD = "results/demo/world"
DEMO_MODELS = "results/demo/models"


def demo_world_config():
    """The demo world's full config (for its oracle), or None outside the demo."""
    if CFG.demo is None:
        return None
    return {**DEMO.world, "seed": CFG.seed, "pairs": PAIRS}


def demo_world_files():
    files = [f"{DEMO_WORLD}/lid/train.txt", f"{DEMO_WORLD}/lid/valid.txt"]
    for pair in PAIRS:
        s, t = split_pair(pair)
        base = f"{DEMO_WORLD}/{pair}"
        files += [
            f"{base}/raw/train.{s}",
            f"{base}/raw/train.{t}",
            f"{base}/raw/noise_labels.tsv",
        ]
        for split in ("dev", "test", "teacher", "metric"):
            files += [f"{base}/{split}.{s}", f"{base}/{split}.{t}"]
    files += [f"{DEMO_WORLD}/rl/{lang}.txt" for lang in SOURCE_LANGS]
    return files


def demo_split(split):
    """Both sides of one clean split of every pair."""
    files = []
    for pair in PAIRS:
        s, t = split_pair(pair)
        files += [
            f"{DEMO_WORLD}/{pair}/{split}.{s}",
            f"{DEMO_WORLD}/{pair}/{split}.{t}",
        ]
    return files



rule demo_world:
    output:
        demo_world_files(),
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
        demo_split("teacher"),
    output:
        directory(f"{DEMO_MODELS}/tokenizer"),
    log:
        "logs/demo/tokenizer.log",
    params:
        vocab_size=DEMO.tokenizer.vocab_size,
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
        architecture=as_json(DEMO.base_model.to_dict()),
        seed=CFG.seed,
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
        hparams=as_json(DEMO.teacher.to_dict()),
        pairs=PAIRS,
        seed=CFG.seed,
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
        options=as_json(DEMO.lid.to_dict()),
        seed=CFG.seed,
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
        seed=CFG.seed,
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
