# WMT25 files (Marco-MT-Algharb, WMT25, §3 evaluates on the WMT25 general-MT test set): where
# each test line came from (document, paragraph), each decoded row as a WMT25 submission
# (doc_id + hypothesis, paragraphs rejoined in the release's layout), and the release's
# official systems (tgt_text keyed by system name) as extra rows of the ablation table.


rule wmt_segments:
    input:
        lambda wc: spec_paths(CFG.data.split(wc.section)[wc.pair]),
    output:
        segments="results/data/{pair}/{section}.segments.tsv",
        report="results/data/{pair}/{section}.paragraph_mismatches.tsv",
    log:
        "logs/data/{pair}/segments_{section}.log",
    params:
        spec=lambda wc: as_json(CFG.data.split(wc.section)[wc.pair]),
    conda:
        "../envs/algharb.yaml"
    threads: 1
    script:
        "../scripts/wmt_segments.py"


rule wmt_submission:
    input:
        segments="results/data/{pair}/test.segments.tsv",
        hyp=hypothesis,
        release=lambda wc: wmt_test_spec(wc.pair)["jsonl"],
    output:
        submission="results/wmt/{system}/{pair}.jsonl",
        check="results/wmt/{system}/{pair}.paragraph_check.tsv",
    log:
        "logs/wmt/{system}/{pair}.log",
    wildcard_constraints:
        system="|".join(re.escape(s) for s in SYSTEMS),
    params:
        doc_prefix=lambda wc: wmt_test_spec(wc.pair)["doc_prefix"],
    conda:
        "../envs/algharb.yaml"
    threads: 1
    script:
        "../scripts/wmt_submission.py"


rule wmt_external:
    input:
        release=lambda wc: wmt_test_spec(wc.pair)["jsonl"],
        segments="results/data/{pair}/test.segments.tsv",
    output:
        hyp="results/hyp/{system}/{pair}.txt",
        report="results/hyp/{system}/{pair}.paragraph_mismatches.tsv",
    log:
        "logs/wmt/external_{system}_{pair}.log",
    wildcard_constraints:
        system="|".join(re.escape(s) for s in WMT_SYSTEMS) or "^$",
    params:
        doc_prefix=lambda wc: wmt_test_spec(wc.pair)["doc_prefix"],
        system=lambda wc: wc.system,
    conda:
        "../envs/algharb.yaml"
    threads: 1
    script:
        "../scripts/wmt_external.py"
