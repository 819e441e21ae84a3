"""The whole workflow config as typed sections, parsed once (``WorkflowConfig.parse``).

Stage sections live beside the code that uses them (``algharb.data.config``,
``algharb.train.config``, ``algharb.decode.config``); this module composes
them and holds the small sections that belong to no single stage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from algharb.collab.config import CollabConfig
from algharb.config.section import ConfigError, Section, option
from algharb.data.config import CleanConfig
from algharb.decode.config import AlignConfig, CandidatesConfig, MBRConfig
from algharb.generation.sampling import ChunkedGeneration
from algharb.train.config import CPOConfig, DPOConfig, DynamicConfig, M2POConfig, SFTConfig
from algharb.train.methods import chain_name, check_chain


@dataclass(frozen=True)
class DataConfig(Section):
    """Where the data comes from: per-direction specs in any format of algharb.data.ingest."""

    corpora: dict = option(help="direction → training corpus spec", factory=dict)
    dev: dict = option(help="direction → dev set spec", factory=dict)
    test: dict = option(help="direction → test set spec", factory=dict)
    rl_sources: dict = option(help="source language → file of RL source sentences", factory=dict)
    rl_references: dict = option(help="direction → references line-aligned with its rl_sources file (optional)",
                                 factory=dict)
    noise_labels: dict = option(help="demo only: direction → injected-noise labels (the filters' ground truth)",
                                factory=dict)

    def split(self, section: str) -> dict:
        """The specs of ``corpora``, ``dev`` or ``test``."""
        return getattr(self, section)


@dataclass(frozen=True)
class DistillConfig(ChunkedGeneration):
    """The teacher's re-translation of rejected sources (its sampling, chunks in results/cache/distill)."""

    max_pairs_per_direction: int = option(800_000, "rejected sources re-translated per direction")
    refilter: bool = option(True, "teacher outputs pass the clean section's rule filters and LID again")


@dataclass(frozen=True)
class SFTSteps(Section):
    step1: SFTConfig = option(help="SFT step 1 on the cleaned data of all directions", factory=SFTConfig)
    step2: SFTConfig = option(help="SFT step 2 on the distilled data", factory=SFTConfig)


@dataclass(frozen=True)
class PoolConfig(ChunkedGeneration):
    """Candidate pools of the RL sources (the policy's sampling, chunks in results/cache/rl_pool)."""

    samples: int = option(8, "policy samples per RL source")
    include_teacher: bool = option(True, "add the teacher's translation to each pool")
    include_reference: bool = option(True, "add the reference where data.rl_references has the direction")


@dataclass(frozen=True)
class NoiseConfig(Section):
    """The noised-rejected translations of ALMA-R's analysis (§6.2)."""

    p_delete: float = option(0.15, "probability that each word of the chosen translation is deleted")
    p_swap: float = option(0.3, "probability that each pair of adjacent words is swapped")


@dataclass(frozen=True)
class PairsConfig(Section):
    """Preference pairs from the scored pools (ALMA-R's triplet rule)."""

    scorers: dict = option(help="models entry → weight: every candidate is scored by each and the pairs are "
                                "picked by the weighted mean (ALMA-R: KIWI-XXL and XCOMET-XXL, 0.5 each)",
                           factory=lambda: {"qe": 1.0})
    margin: float = option(0.05, "minimum score gap between chosen and rejected; smaller gaps are skipped")
    noise: NoiseConfig = option(help="noised rejected translations", factory=NoiseConfig)

    def __post_init__(self):
        if not self.scorers or any(isinstance(w, bool) or not isinstance(w, (int, float)) or w <= 0
                                   for w in self.scorers.values()):
            raise ConfigError(f"rl.pairs.scorers must map models entries to positive weights, got {self.scorers}")


@dataclass(frozen=True)
class RLConfig(Section):
    sources_per_language: int = option(15_000, "RL source sentences sampled per source language")
    pool: PoolConfig = option(help="candidate pools scored by QE", factory=PoolConfig)
    pairs: PairsConfig = option(help="preference pairs and their scorers", factory=PairsConfig)
    stages: list = option(help="the RL methods the paper's rows train, in order, from step-2 SFT "
                               "(algharb.train.methods)", factory=lambda: ["cpo", "dynamic"])
    compare: list = option(help="chains of methods, each trained from step-2 SFT on the same pools: the rows "
                                "of the preference comparison table after SFT (empty: no table)", factory=list)
    cpo: CPOConfig = option(help="CPO with LoRA", factory=CPOConfig)
    dpo: DPOConfig = option(help="DPO with LoRA (frozen reference)", factory=DPOConfig)
    dynamic: DynamicConfig = option(help="dynamic multi-reward optimisation with LoRA", factory=DynamicConfig)
    m2po: M2POConfig = option(help="M2PO with LoRA", factory=M2POConfig)

    def __post_init__(self):
        check_chain(self.stages, "rl.stages")
        for index, chain in enumerate(self.compare):
            check_chain(chain, f"rl.compare[{index}]")
        names = [chain_name(chain) for chain in self.compare]
        if len(set(names)) < len(names):
            raise ConfigError(f"rl.compare lists a chain twice: {names}")

    def chains(self) -> list[list[str]]:
        """Every chain trained: the paper's stages and the compared ones, each prefix once, in order."""
        seen, chains = set(), []
        for chain in [self.stages, *self.compare]:
            for end in range(1, len(chain) + 1):
                if chain_name(chain[:end]) not in seen:
                    seen.add(chain_name(chain[:end]))
                    chains.append(chain[:end])
        return chains

    def methods(self) -> set[str]:
        return {name for chain in self.chains() for name in chain}


@dataclass(frozen=True)
class DecodeConfig(Section):
    baseline_sampling: dict = option(help="sampling of the greedy baseline rows", factory=dict)
    backend: str = option("transformers", "generation backend of the policy's own decoding (registry name)")
    candidates: CandidatesConfig = option(help="the N sampled candidates", factory=CandidatesConfig)
    mbr: MBRConfig = option(help="the MBR utility", factory=MBRConfig)
    align: AlignConfig = option(help="the word-alignment score", factory=AlignConfig)
    lambda_: float = option(0.5, "λ of S_MBR + λ·S_align", key="lambda")
    lambda_sweep: list = option(help="λ values re-selected from saved scores for the sweep table",
                                factory=lambda: [0, 0.25, 0.5, 1, 2])


@dataclass(frozen=True)
class SignificanceConfig(Section):
    """Paired bootstrap resampling (Koehn 2004), seeded from the run's ``seed``."""

    resamples: int = option(1000, "bootstrap resamples per direction")
    confidence: float = option(0.95, "confidence level of every interval")
    alpha: float = option(0.05, "significance level of the ablation table's marks")
    baseline: str = option("two_step_rl", "row every other row is also compared with (and the metric-family gains)")

    def __post_init__(self):
        for name in ("confidence", "alpha"):
            if not 0.0 < getattr(self, name) < 1.0:
                raise ConfigError(f"evaluate.significance.{name} must be in (0, 1), got {getattr(self, name)}")


# The decodings a configured model row can get, and the suffix of each row's name.
MODEL_ROW_DECODINGS = {"greedy": "", "hybrid": "_hybrid"}


@dataclass(frozen=True)
class ModelRowConfig(Section):
    """A configured model (base model, released checkpoint) decoded and evaluated as its own rows.

    No training stage runs for it: the model is decoded greedily (row
    ``<name>``) and/or with hybrid MBR + alignment selection (row
    ``<name>_hybrid``) on every test set and scored like the other rows.
    """

    model: dict = option(help="the model entry: {path} or {hub}, backend, options, prompt", factory=dict)
    decode: list = option(help="'greedy' (row <name>) and/or 'hybrid' (row <name>_hybrid)",
                          factory=lambda: ["greedy"])
    sampling: dict | None = option(None, "sampling of the greedy row (None: decode.baseline_sampling)")
    candidates: CandidatesConfig | None = option(None, "hybrid row: its N candidates (None: decode.candidates)")

    @classmethod
    def parse(cls, values: Mapping[str, Any], where: str) -> "ModelRowConfig":
        row = cls.from_dict(values, where)
        unknown = [d for d in row.decode if d not in MODEL_ROW_DECODINGS]
        if unknown or not row.decode:
            raise ConfigError(f"{where}.decode must list some of {list(MODEL_ROW_DECODINGS)}, got {row.decode}")
        if not row.model:
            raise ConfigError(f"{where}.model: a model entry ({{path}} or {{hub}}) is required")
        from algharb.models import ModelSpec  # models imports the config layer: import here

        ModelSpec.from_dict(row.model, where=f"{where}.model")  # its prompt is checked before any job
        if row.candidates is not None and not isinstance(row.candidates, CandidatesConfig):
            row = row.replace(candidates=CandidatesConfig.from_dict(row.candidates, f"{where}.candidates"))
        return row

    def rows(self, name: str) -> dict[str, str]:
        """Row name → decoding ("greedy" or "hybrid")."""
        return {name + MODEL_ROW_DECODINGS[d]: d for d in self.decode}


@dataclass(frozen=True)
class EvaluateConfig(Section):
    primary: str = option("xcomet", "metric of the ablation table (one of `metrics`)")
    metrics: list = option(help="evaluation metrics by registry name", factory=lambda: ["xcomet", "chrf", "bleu"])
    comet_batch_size: int = option(64, "segments per COMET batch")
    external: dict = option(help="system name → {pair → hypothesis file}: extra ablation rows", factory=dict)
    significance: SignificanceConfig = option(help="confidence intervals and paired significance tests",
                                              factory=SignificanceConfig)
    models: dict = option(help="row name → a model decoded and evaluated as its own rows (ModelRowConfig)",
                          factory=dict)
    wmt_systems: list | dict = option(
        help="official systems of the WMT release the test sets come from, as extra rows: names (every WMT "
             "test set) or name → directions", factory=list)

    def wmt_system_pairs(self, wmt_pairs: list[str]) -> dict[str, list[str]]:
        """Official WMT system → the directions it is a row for (only test sets read from a WMT release)."""
        if isinstance(self.wmt_systems, Mapping):
            chosen = {name: list(pairs) for name, pairs in self.wmt_systems.items()}
        else:
            chosen = {name: list(wmt_pairs) for name in self.wmt_systems}
        for name, pairs in chosen.items():
            outside = [p for p in pairs if p not in wmt_pairs]
            if outside:
                raise ConfigError(f"evaluate.wmt_systems.{name}: {outside} have no test set read from a WMT "
                                  f"JSONL release (those that do: {wmt_pairs or 'none'})")
        return chosen

    def model_rows(self) -> dict[str, ModelRowConfig]:
        return {name: ModelRowConfig.parse(values, where=f"evaluate.models.{name}")
                for name, values in self.models.items()}


@dataclass(frozen=True)
class ResourcesConfig(Section):
    threads: int = option(1, "CPU threads per job (torch, BLAS)")


@dataclass(frozen=True)
class DemoTokenizerConfig(Section):
    vocab_size: int = option(1500, "byte-level BPE vocabulary size")


@dataclass(frozen=True)
class DemoBaseModelConfig(Section):
    hidden_size: int = option(128, "tiny Qwen3 hidden size")
    num_layers: int = option(2, "tiny Qwen3 layers")


@dataclass(frozen=True)
class DemoTeacherConfig(Section):
    max_steps: int = option(1500, "teacher stand-in's SFT steps")
    learning_rate: float = option(3e-3, "teacher stand-in's learning rate")
    batch_size: int = option(32, "teacher stand-in's batch size")


@dataclass(frozen=True)
class DemoLidConfig(Section):
    dim: int = option(16, "fastText dimension")
    epoch: int = option(25, "fastText epochs")
    # fastText diverges (NaN) on perfectly separable toy data above 0.05.
    lr: float = option(0.05, "fastText learning rate (≤ 0.05)")


@dataclass(frozen=True)
class DemoCometConfig(Section):
    n_examples: int = option(20_000, "graded corruptions the stand-ins train on")
    max_epochs: int = option(100, "epoch cap")
    max_steps: int | dict | None = option(None, "step budget: one for all, or kind → steps; None (or a kind "
                                                "left out): per kind (qe 1200, ref 800, unified 300)")

    def steps_for(self, kind: str) -> int | None:
        """The step budget of one kind of stand-in (None: the kind's default)."""
        return self.max_steps.get(kind) if isinstance(self.max_steps, dict) else self.max_steps


@dataclass(frozen=True)
class DemoConfig(Section):
    world: dict = option(help="the toy world's settings (checked by algharb.demo.world)", factory=dict)
    tokenizer: DemoTokenizerConfig = option(help="demo tokenizer", factory=DemoTokenizerConfig)
    base_model: DemoBaseModelConfig = option(help="demo base model", factory=DemoBaseModelConfig)
    teacher: DemoTeacherConfig = option(help="teacher stand-in", factory=DemoTeacherConfig)
    lid: DemoLidConfig = option(help="fastText LID stand-in", factory=DemoLidConfig)
    comet: DemoCometConfig = option(help="COMET stand-ins", factory=DemoCometConfig)


# The rl sections that configure a trainer (and get the run's seed and threads).
RL_TRAINERS = ("cpo", "dpo", "dynamic", "m2po")


@dataclass(frozen=True)
class WorkflowConfig(Section):
    run_name: str = option("run", "name of the run")
    seed: int = option(0, "seed of every random choice")
    pairs: list = option(help="translation directions, e.g. en-zh", factory=list)
    demo: DemoConfig | None = option(None, "builds the offline stand-ins; absent from the paper's config")
    data: DataConfig = option(help="corpora, dev/test sets, RL sources", factory=DataConfig)
    fetch: dict = option(help="download recipes (rules/fetch.smk)", factory=dict)
    models: dict = option(help="model name → {path | hub, backend, options}", factory=dict)
    clean: CleanConfig = option(help="cleaning", factory=CleanConfig)
    distill: DistillConfig = option(help="distillation", factory=DistillConfig)
    sft: SFTSteps = option(help="two-step SFT", factory=SFTSteps)
    rl: RLConfig = option(help="two-step RL", factory=RLConfig)
    decode: DecodeConfig = option(help="hybrid decoding", factory=DecodeConfig)
    evaluate: EvaluateConfig = option(help="evaluation", factory=EvaluateConfig)
    resources: ResourcesConfig = option(help="per-job resources", factory=ResourcesConfig)
    collab: CollabConfig | None = option(None, "logit-fusion decoding with small MT experts (Collab-MT Table 6)")

    @classmethod
    def parse(cls, config: Mapping[str, Any]) -> "WorkflowConfig":
        """The typed config of a validated config mapping, with the run-wide values filled in."""
        parsed = cls.from_dict(config)
        demo = None if config.get("demo") is None else DemoConfig.from_dict(config["demo"], where="demo")
        run = {"seed": parsed.seed, "threads": parsed.resources.threads}
        align = parsed.decode.align
        if "seed" not in config.get("decode", {}).get("align", {}):
            align = align.replace(seed=parsed.seed)
        collab = None if config.get("collab") is None else CollabConfig.parse(config["collab"], run)
        return parsed.replace(
            demo=demo,
            collab=collab,
            sft=SFTSteps(step1=parsed.sft.step1.replace(**run), step2=parsed.sft.step2.replace(**run)),
            rl=parsed.rl.replace(**{name: getattr(parsed.rl, name).replace(**run) for name in RL_TRAINERS}),
            decode=parsed.decode.replace(align=align),
        )

    @property
    def source_langs(self) -> list[str]:
        return sorted({pair.split("-")[0] for pair in self.pairs})
