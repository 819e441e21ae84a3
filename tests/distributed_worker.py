"""A torchrun worker for tests/test_distributed.py: the project's SFT trainer, with a ledger of what each rank saw.

    python -m torch.distributed.run ... tests/distributed_worker.py MODEL ROWS.jsonl OUT HPARAMS.json

builds :func:`algharb.train.sft.build_sft_trainer` exactly as the SFT rules
do, wraps its data collator so that every micro-batch this rank collates is
appended to ``OUT/seen.rank{RANK}.jsonl`` (the token ids of each example,
with the optimizer step it belongs to), trains and saves.
"""

import json
import os
import sys
from pathlib import Path

from algharb.io import read_jsonl
from algharb.train.common import leave_process_group, save_trained_model, train_with_resume
from algharb.train.sft import build_sft_trainer


def main(model_dir: str, rows_path: str, out: str, hparams_path: str) -> None:
    out_dir = Path(out)
    hparams = json.loads(Path(hparams_path).read_text(encoding="utf-8"))
    trainer = build_sft_trainer(model_dir, read_jsonl(rows_path), out_dir / "ckpt", hparams)
    ledger = out_dir / f"seen.rank{os.environ.get('RANK', '0')}.jsonl"
    collate = trainer.data_collator

    def recording_collator(examples):
        with open(ledger, "a", encoding="utf-8") as handle:
            for example in examples:
                handle.write(json.dumps({"step": trainer.state.global_step, "ids": list(example["input_ids"])}) + "\n")
        return collate(examples)

    trainer.data_collator = recording_collator
    train_with_resume(trainer, out_dir / "ckpt")
    save_trained_model(trainer, out_dir / "model", out_dir / "ckpt")
    leave_process_group()


if __name__ == "__main__":
    main(*sys.argv[1:])
