# Two-step SFT (Marco-MT-Algharb, WMT25, §2.2): step 1 on the cleaned data of all directions in
# one multilingual run, step 2 continues on the teacher-distilled data.


rule sft_step1:
    input:
        model=model_path("base"),
        data=expand("results/data/{pair}/clean.jsonl", pair=PAIRS),
    output:
        directory(trained_model("sft1")),
    log:
        "logs/train/sft1.log",
    benchmark:
        "results/benchmarks/train/sft1.tsv"
    params:
        base=model_spec("base"),
        hparams=as_json(CFG.sft.step1.to_dict()),
        checkpoint_dir=checkpoint_dir("sft1"),
        # Tokens/s and MFU per step: timings, kept with the benchmarks (not in the manifest).
        throughput_log="results/benchmarks/train/sft1_throughput.jsonl",
    conda:
        "../envs/algharb.yaml"
    threads: THREADS
    priority: PRIORITY_FIRST
    script:
        "../scripts/sft.py"


rule sft_step2:
    input:
        model=trained_model("sft1"),
        data=expand("results/distill/{pair}/distilled.jsonl", pair=PAIRS),
    output:
        directory(trained_model("sft2")),
    log:
        "logs/train/sft2.log",
    benchmark:
        "results/benchmarks/train/sft2.tsv"
    params:
        base={"path": trained_model("sft1")},
        hparams=as_json(CFG.sft.step2.to_dict()),
        checkpoint_dir=checkpoint_dir("sft2"),
        # Tokens/s and MFU per step: timings, kept with the benchmarks (not in the manifest).
        throughput_log="results/benchmarks/train/sft2_throughput.jsonl",
    conda:
        "../envs/algharb.yaml"
    threads: THREADS
    priority: PRIORITY_CHAIN
    script:
        "../scripts/sft.py"
