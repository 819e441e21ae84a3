"""``algharb``: run one step of the workflow by hand.

Each subcommand calls the same function the Snakemake rule calls, so a step run
by hand is the step the workflow runs::

    algharb validate config/config.yaml
    algharb translate --model results/models/sft2 --src test.en --out hyp.txt --pair en-qaa
    algharb mbr --candidates cands.jsonl --utility chrf --align none --lambda 0.5 --out sel.jsonl
    algharb evaluate --src test.en --ref test.qaa --hyp hyp.txt --out eval.json --metrics chrf bleu
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

import yaml

from .prompts import split_pair


def _model_spec(value: str, backend: str | None = None) -> dict:
    """A CLI model argument: an existing local path, or ``hub:owner/name`` (backend: ModelSpec's default)."""
    spec = {"hub": value[4:]} if value.startswith("hub:") else {"path": value}
    return {**spec, "backend": backend} if backend else spec


def _sampling(args) -> dict:
    values = {"temperature": args.temperature, "max_new_tokens": args.max_new_tokens,
              "batch_size": args.batch_size}
    if getattr(args, "top_p", None) is not None:
        values["top_p"] = args.top_p
    return values


def cmd_validate(args) -> int:
    from .config import load_config
    from .config.sections import WorkflowConfig

    WorkflowConfig.parse(load_config(args.config))
    print(f"{args.config}: valid")
    return 0


def cmd_translate(args) -> int:
    from .steps.decode import translate_file

    src, tgt = split_pair(args.pair)
    n = translate_file(_model_spec(args.model, args.backend), args.src, args.out, src, tgt,
                       {**_sampling(args), "seed": args.seed}, threads=args.threads)
    print(f"wrote {n} translations to {args.out}")
    return 0


def cmd_candidates(args) -> int:
    from .decode.config import CandidatesConfig
    from .steps.decode import candidates_file

    src, tgt = split_pair(args.pair)
    n = candidates_file(_model_spec(args.model, args.backend), args.src, args.out, src, tgt, args.n,
                        _sampling(args), args.seed, chunk_size=CandidatesConfig().chunk_size, threads=args.threads)
    print(f"wrote {n} candidate pools to {args.out}")
    return 0


def cmd_mbr(args) -> int:
    """Score candidate pools (utility N×N + alignment) and select with S_MBR + λ·S_align."""
    import tempfile
    from pathlib import Path

    from .decode.config import AlignConfig, MBRConfig
    from .steps.decode import candidate_scores_file, hybrid_select_file

    utility, model = (args.utility.split(":", 1) + [None])[:2]
    utility_model = _model_spec(model) if model else None
    mbr = MBRConfig(utility=utility, aggregate=args.aggregate, include_self=args.include_self,
                    batch_size=args.batch_size)
    backend, align_model = (args.align.split(":", 1) + [None])[:2]
    align = AlignConfig(backend=backend, symmetrize=args.symmetrize, reference_pairs=args.reference_pairs,
                        model=_model_spec(align_model) if align_model else None, seed=args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        scores = Path(tmp) / "scores.jsonl"
        candidate_scores_file(args.candidates, scores, args.tgt_lang, utility_model, mbr, align,
                              reference_path=args.align_reference, threads=args.threads)
        hyps = Path(args.out).with_suffix(".txt") if args.hyp is None else Path(args.hyp)
        n = hybrid_select_file(scores, hyps, args.out, args.lam, mbr)
    print(f"selected {n} translations: {args.out} (scores) and {hyps} (text)")
    return 0


def cmd_evaluate(args) -> int:
    from .steps.evaluate import evaluate_file

    model = _model_spec(args.comet_model) if args.comet_model else None
    result = evaluate_file(args.src, args.ref, args.hyp, args.out, args.metrics, args.tgt_lang,
                           model=model, batch_size=args.batch_size, threads=args.threads)
    print(json.dumps(result["scores"], indent=2, ensure_ascii=False))
    return 0


def _load_yaml(path) -> dict:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def cmd_audit(args) -> int:
    """Compare two run manifests; exit 1 when they differ."""
    from .audit import compare_manifests, read_manifest

    first, second = read_manifest(args.first), read_manifest(args.second)
    rows = [row for row in compare_manifests(first, second)
            if not any(row["key"].startswith(prefix) for prefix in args.ignore)]
    if not rows:
        print(f"{args.first} and {args.second} agree: same code, config, packages, inputs and outputs")
        return 0
    for row in rows:
        print(f"{row['section']}\t{row['key']}\t{_short(row['first'])}\t{_short(row['second'])}")
    sections = sorted({row["section"] for row in rows})
    print(f"{len(rows)} difference(s) in {', '.join(sections)}", file=sys.stderr)
    return 1


def _short(value) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, str) else value
    return text if len(text) <= 70 else text[:67] + "..."


def cmd_world(args) -> int:
    from .steps.demo import build_world

    world = _load_yaml(args.config) if args.config else {}
    summary = build_world(world, args.pairs, args.seed, args.out)
    print(json.dumps(summary, indent=2))
    return 0


def cmd_clean(args) -> int:
    """Clean one parallel corpus (one shard) by hand: rule filters, LID, dedup, QE."""
    from pathlib import Path

    from .data.config import QEConfig
    from .metrics.comet import comet_scorer
    from .steps.data import clean_corpus

    if bool(args.tsv) == bool(args.src or args.tgt) or bool(args.src) != bool(args.tgt):
        raise SystemExit("give either --src and --tgt (two line-aligned files) or --tsv (one file)")
    spec = {"tsv": args.tsv, "src_col": args.src_col, "tgt_col": args.tgt_col} if args.tsv else \
        {"src": args.src, "tgt": args.tgt}
    src_lang, tgt_lang = split_pair(args.pair)
    clean = _load_yaml(args.filters)
    lid = _model_spec(args.lid) if args.lid else None
    scorer = None
    if args.qe_model:
        scorer = comet_scorer(_model_spec(args.qe_model), batch_size=QEConfig().batch_size, threads=args.threads)
        clean.setdefault("qe", {"mode": "threshold", "threshold": args.qe_threshold})
    summary = clean_corpus(spec, args.out, src_lang, tgt_lang, clean, lid=lid, qe_scorer=scorer)
    out = Path(args.out)
    print(f"{summary['kept']} of {summary['pairs']} pairs kept in {out}/kept.src, kept.tgt; "
          f"rejected pairs with reasons in {out}/rejected.tsv; every decision in {out}/decisions.tsv")
    print((out / "funnel.tsv").read_text(), end="")
    return 0


def cmd_sft(args) -> int:
    from .steps.train import sft_step

    sft_step(_model_spec(args.model), args.data, args.out, args.checkpoint_dir,
             {**_load_yaml(args.hparams), "seed": args.seed}, threads=args.threads)
    print(f"model saved to {args.out}")
    return 0


def _add_generation_options(parser, temperature: float) -> None:
    from .generation import BACKENDS, Sampling
    from .models import ModelSpec

    defaults = Sampling()
    parser.add_argument("--model", required=True, help="model directory, or hub:owner/name")
    parser.add_argument("--backend", default=ModelSpec().backend, choices=BACKENDS.names())
    parser.add_argument("--src", required=True, help="source sentences, one per line")
    parser.add_argument("--pair", required=True, help="language pair, e.g. en-zh")
    parser.add_argument("--out", required=True)
    parser.add_argument("--temperature", type=float, default=temperature)
    parser.add_argument("--top-p", dest="top_p", type=float, default=None)
    parser.add_argument("--max-new-tokens", type=int, default=defaults.max_new_tokens)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--threads", type=int, default=1)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="algharb", description=__doc__.split("\n\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="validate a config file (the schema shipped with algharb, then the typed sections)")
    p.add_argument("config")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("audit", help="compare two run manifests (results/manifest.json): what differs")
    p.add_argument("first")
    p.add_argument("second")
    p.add_argument("--ignore", nargs="*", default=[], help="key prefixes to leave out, e.g. results/models/")
    p.set_defaults(func=cmd_audit)

    p = sub.add_parser("world", help="generate the demo world (toy languages, oracle, labelled noise)")
    p.add_argument("--out", required=True)
    p.add_argument("--pairs", nargs="+", default=["en-qaa", "en-qab"])
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--config", help="YAML with world keys (see algharb.demo.world.DEFAULT_WORLD)")
    p.set_defaults(func=cmd_world)

    p = sub.add_parser("clean", help="clean one parallel corpus (one shard): rule filters, LID, dedup, QE; "
                       "rejected pairs keep a reason")
    p.add_argument("--src", help="source side, one sentence per line (.gz/.xz allowed)")
    p.add_argument("--tgt", help="target side, line-aligned with --src")
    p.add_argument("--tsv", help="instead of --src/--tgt: one tab-separated file (.gz/.xz allowed)")
    p.add_argument("--src-col", dest="src_col", type=int, default=0, help="--tsv column of the source (0-based)")
    p.add_argument("--tgt-col", dest="tgt_col", type=int, default=1, help="--tsv column of the target")
    p.add_argument("--pair", required=True, help="language pair, e.g. en-zh")
    p.add_argument("--filters", required=True, help="YAML: the config's clean section (filters, per_pair, qe)")
    p.add_argument("--lid", help="fastText LID model (file or hub:owner/name); needed by language_id")
    p.add_argument("--qe-model", help="COMET QE model (dir or hub:id); without it no QE filtering")
    p.add_argument("--qe-threshold", type=float, default=0.5, help="used when the YAML has no qe section")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", required=True, help="output folder: kept.src, kept.tgt, rejected.tsv, decisions.tsv, "
                   "clean.jsonl, rejected.jsonl, funnel.tsv")
    p.set_defaults(func=cmd_clean)

    p = sub.add_parser("sft", help="one SFT step on translation rows (JSONL {src, tgt, src_lang, tgt_lang})")
    p.add_argument("--model", required=True, help="base model dir, or hub:owner/name")
    p.add_argument("--data", nargs="+", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--checkpoint-dir", required=True, help="kept across restarts; training resumes from it")
    p.add_argument("--hparams", required=True, help="YAML: the config's sft.step1 (or step2) section")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.set_defaults(func=cmd_sft)

    p = sub.add_parser("translate", help="translate a file (greedy by default)")
    _add_generation_options(p, temperature=0.0)
    p.set_defaults(func=cmd_translate)

    p = sub.add_parser("candidates", help="sample N candidates per source sentence (JSONL)")
    _add_generation_options(p, temperature=0.7)
    p.add_argument("-n", type=int, default=16)
    p.set_defaults(func=cmd_candidates)

    p = sub.add_parser("mbr", help="hybrid MBR selection: S_MBR + lambda * S_align")
    p.add_argument("--candidates", required=True, help='JSONL lines {"id", "src", "candidates": [...]}')
    p.add_argument("--utility", default="chrf", help="chrf | bleu | comet:<model dir or hub:id>")
    p.add_argument("--align", default="none", help="none | eflomal | wspalign:<model dir or hub:id>")
    p.add_argument("--align-reference", help="clean parallel JSONL ({src, tgt}) the aligner learns from")
    p.add_argument("--reference-pairs", type=int, default=10000)
    p.add_argument("--symmetrize", default="intersection", choices=["intersection", "union"])
    p.add_argument("--seed", type=int, default=0, help="eflomal sampler seed (reproducible scores)")
    p.add_argument("--lambda", dest="lam", type=float, default=0.5)
    p.add_argument("--aggregate", default="mean", choices=["mean", "sum"])
    p.add_argument("--include-self", action="store_true")
    p.add_argument("--tgt-lang", default=None, help="target language (BLEU tokenisation)")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", required=True, help="output JSONL: input fields + selected, index, scores")
    p.add_argument("--hyp", help="also write the selected texts here (default: OUT with .txt)")
    p.set_defaults(func=cmd_mbr)

    p = sub.add_parser("evaluate", help="corpus scores of a hypothesis file")
    p.add_argument("--src", required=True)
    p.add_argument("--ref", required=True)
    p.add_argument("--hyp", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--tgt-lang", required=True)
    p.add_argument("--metrics", nargs="+", default=["chrf", "bleu"], choices=["chrf", "bleu", "xcomet"])
    p.add_argument("--comet-model", help="COMET checkpoint for 'xcomet' (dir or hub:id)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--threads", type=int, default=1)
    p.set_defaults(func=cmd_evaluate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError, yaml.YAMLError) as err:
        print(f"algharb {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
