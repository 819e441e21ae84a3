# Logit-fusion decoding with small MT experts (Collab-MT, Table 6; proxy-tuning as its
# baseline): small experts and the Fine-tuning rows are trained with the SFT stage, each
# row is decoded by the transformers or fusion backend, scored with collab.metrics and
# laid out as Table 6. Only reached when the config has a collab section.


rule collab_train_rows:
    input:
        lambda wc: spec_paths(COLLAB.split(wc.direction, "train")),
    output:
        f"{COLLAB_ROOT}/data/{{direction}}/train.jsonl",
    log:
        "logs/collab/{direction}/train_rows.log",
    params:
        spec=lambda wc: as_json(COLLAB.split(wc.direction, "train")),
    conda:
        "../envs/algharb.yaml"
    threads: 1
    script:
        "../scripts/collab_train_rows.py"


rule collab_test_split:
    input:
        lambda wc: spec_paths(COLLAB.split(wc.direction, "test")),
    output:
        src=f"{COLLAB_ROOT}/data/{{direction}}/test.src",
        tgt=f"{COLLAB_ROOT}/data/{{direction}}/test.tgt",
    log:
        "logs/collab/{direction}/test_split.log",
    params:
        spec=lambda wc: as_json(COLLAB.split(wc.direction, "test")),
        where=lambda wc: f"collab.data.{wc.direction}.test",
    conda:
        "../envs/algharb.yaml"
    threads: 1
    script:
        "../scripts/prepare_split.py"


# A small expert, or a Fine-tuning row's model: the configured model of {size} fine-tuned
# (collab.finetune, the paper's lr 2e-5) on the training data of {directions} ("+"-joined).
rule collab_finetune:
    input:
        model=lambda wc: [
            path for path in [collab_base_model(wc).get("path")] if path is not None
        ],
        data=lambda wc: [
            collab_plan.train_rows_file(d) for d in wc.directions.split("+")
        ],
    output:
        directory(f"{COLLAB_ROOT}/models/{{size}}/{{directions}}"),
    log:
        "logs/collab/finetune/{size}/{directions}.log",
    benchmark:
        "results/benchmarks/collab/finetune/{size}/{directions}.tsv"
    wildcard_constraints:
        size="|".join(re.escape(s) for s in COLLAB_SIZES),
        directions=r"[^/]+",
    params:
        base=collab_base_model,
        hparams=as_json(COLLAB.finetune.to_dict()) if COLLAB else None,
        checkpoint_dir=lambda wc: checkpoint_dir(f"collab/{wc.size}/{wc.directions}"),
        throughput_log=lambda wc: f"results/benchmarks/collab/finetune/{wc.size}/{wc.directions}_throughput.jsonl",
    conda:
        "../envs/algharb.yaml"
    threads: THREADS
    script:
        "../scripts/sft.py"


# Every distinct decoding of a direction in one job: one import and model load per row, and
# rows resume from their finished chunks (results/cache/collab) when the job is killed.
rule collab_decode:
    input:
        src=f"{COLLAB_ROOT}/data/{{direction}}/test.src",
        models=collab_decoding_inputs,
    output:
        directory(collab_plan.hypothesis_dir("{direction}")),
    log:
        "logs/collab/decode/{direction}.log",
    benchmark:
        "results/benchmarks/collab/decode/{direction}.tsv"
    params:
        src_lang=lambda wc: split_pair(wc.direction)[0],
        tgt_lang=lambda wc: split_pair(wc.direction)[1],
        generators=lambda wc: as_json(COLLAB_PLAN.generators(wc.direction)),
        sampling=as_json(COLLAB.sampling) if COLLAB else None,
        chunk_dir=lambda wc: chunk_cache("collab").format(pair=wc.direction),
        chunk_size=COLLAB.chunk_size if COLLAB else None,
    conda:
        "../envs/algharb.yaml"
    threads: THREADS
    script:
        "../scripts/collab_decode.py"


rule collab_scores:
    input:
        src=f"{COLLAB_ROOT}/data/{{direction}}/test.src",
        tgt=f"{COLLAB_ROOT}/data/{{direction}}/test.tgt",
        hyps=collab_plan.hypothesis_dir("{direction}"),
        metric_models=[
            path for entry in COLLAB_METRIC_MODELS for path in model_path(entry)
        ],
    output:
        collab_plan.scores_file("{direction}"),
    log:
        "logs/collab/scores/{direction}.log",
    params:
        decoded=lambda wc: COLLAB_PLAN.decodings(wc.direction),
        decoded_as=lambda wc: as_json(COLLAB_PLAN.decoded_as(wc.direction)),
        metrics=COLLAB.metrics if COLLAB else [],
        metric_models={entry: model_spec(entry) for entry in COLLAB_METRIC_MODELS},
        batch_size=CFG.evaluate.comet_batch_size,
    conda:
        "../envs/algharb.yaml"
    threads: THREADS
    script:
        "../scripts/collab_scores.py"


rule collab_table:
    input:
        [collab_plan.scores_file(d) for d in COLLAB.directions] if COLLAB else [],
    output:
        tsv=report(
            "results/tables/collab.tsv",
            caption="../report/collab.rst",
            category="Logit fusion",
        ),
        md="results/tables/collab.md",
        tex="results/tables/collab.tex",
    log:
        "logs/collab/table.log",
    params:
        rows=as_json([row.describe() for row in COLLAB_PLAN.rows]) if COLLAB else None,
        directions=COLLAB.directions if COLLAB else [],
        metrics=COLLAB.metrics if COLLAB else [],
    conda:
        "../envs/algharb.yaml"
    threads: 1
    script:
        "../scripts/collab_table.py"


# `snakemake ... collab`: the comparison table and nothing of the main pipeline.
rule collab:
    input:
        "results/tables/collab.md",
        "results/tables/collab.tex",
