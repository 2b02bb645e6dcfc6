"""`livr pretrain-tiny`: pretrain a tiny backbone on the generic corpus (livr/data/pretrain_corpus/).

The demo fine-tunes with the paper's recipe (LoRA on the language model, vision frozen), which
needs a base that already sees and answers; a random tiny model does neither. This builds the
tiny architecture from config (livr/model/tiny.py, sizes from the options), trains every weight
on corpus examples generated on the fly (loss on the answer tokens, as in fine-tuning: the
project's `encode` and `Collator`), and writes an atomic directory that loads like any tiny build:
safetensors weights (float32), tokenizer and image-processor files, and `manifest.json` (command,
code revision, corpus seed and size, steps, final loss, held-out accuracy per question family,
wall time, library versions).

The tokenizer is a byte-level BPE trained on corpus text only (questions, choices, answers), plus
the chat template's words and the numbers 0-100: every token the base knows is one it was trained
on, so the demo's prompts (BLINK wording, never in the corpus) split into pieces whose embeddings
did train; LoRA leaves the embedding table frozen, so an untrained task-only token would stay noise.

Killed runs resume: the full training state (weights, optimizer, scheduler, step) is saved
atomically every --save-every steps to --work-dir, and example i of the stream is a pure function
of (seed, i), so the resumed run sees exactly the examples the uninterrupted one would.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import logging
import math
import platform
import shlex
import subprocess
import time
from pathlib import Path

import torch

from livr.data import pretrain_corpus as corpus
from livr.data.schema import Record
from livr.errors import InputError
from livr.io import atomic_dir, atomic_path, write_json
from livr.model.backbones import REGISTRY, get_backbone
from livr.model.inputs import Collator, encode, sequences_correct
from livr.model.tiny import CHAT_WORDS, NUMBER_WORDS, TinyDims

log = logging.getLogger(__name__)

HELD_OUT_OFFSET = 10**9  # held-out examples are indices from here on: never in a training stream
BUCKET_BATCHES = 8  # batches per length-sorted chunk of the example stream
STATE = "state.pt"
# The optimisation settings (the manifest's "training") and the architecture sizes (TinyDims' fields)
TRAINING_KEYS = (
    "steps",
    "batch_size",
    "lr",
    "min_lr_ratio",
    "warmup_steps",
    "weight_decay",
    "max_grad_norm",
    "basic_steps",
)
DIM_KEYS = tuple(f.name for f in dataclasses.fields(TinyDims))


def tokenizer_texts(seed: int, n: int) -> list[str]:
    """Corpus text (question + answer) of examples drawn from a stream of their own, plus chat words."""
    texts = []
    for i in range(n):
        ex = corpus.example(seed, HELD_OUT_OFFSET * 2 + i)
        texts.append(f"{ex.question}\n{ex.answer}")
    return texts + [CHAT_WORDS, NUMBER_WORDS] * 20


def encode_example(ex: corpus.CorpusExample, index: int, processor, spec):
    rec = Record(
        id=f"corpus-{index}",
        task=ex.family,
        split="train",
        images=[],
        question=ex.question,
        choices=[],
        answer=ex.answer,
        source="pretrain_corpus",
    )
    return encode(rec, ex.images, processor, spec, [])


class CorpusBatches(torch.utils.data.IterableDataset):
    """Batches of encoded corpus examples, from training step `start` on.

    Examples come in chunks of BUCKET_BATCHES batches (consecutive indices); within a chunk they
    are sorted by length and cut into batches, whose order is then shuffled with (seed, chunk):
    one-image and three-image examples rarely share a batch, so little compute goes to padding.
    Step s's batch is a pure function of (seed, batch size, s), whatever step a run resumed at.
    """

    def __init__(self, seed: int, batch_size: int, start: int, processor, spec, basic_steps: int = 0):
        self.seed, self.batch_size, self.start, self.processor, self.spec = seed, batch_size, start, processor, spec
        self.basic_steps = basic_steps

    def __iter__(self):
        chunk, skip = divmod(self.start, BUCKET_BATCHES)
        while True:
            first = chunk * BUCKET_BATCHES * self.batch_size
            idx = range(first, first + BUCKET_BATCHES * self.batch_size)
            basic = chunk * BUCKET_BATCHES < self.basic_steps  # the curriculum's first phase, whole chunks
            encoded = [
                encode_example(corpus.example(self.seed, i, basic=basic), i, self.processor, self.spec) for i in idx
            ]
            encoded.sort(key=lambda e: len(e.input_ids))
            batches = [encoded[b * self.batch_size : (b + 1) * self.batch_size] for b in range(BUCKET_BATCHES)]
            order = torch.randperm(
                BUCKET_BATCHES, generator=torch.Generator().manual_seed(self.seed * 1_000_003 + chunk)
            )
            for b in order.tolist()[skip:]:
                yield batches[b]
            chunk, skip = chunk + 1, 0


def answer_correct(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Per sequence: every labelled token is the argmax (what greedy decoding would produce)."""
    return sequences_correct(logits.argmax(-1), labels)


@torch.no_grad()
def held_out_accuracy(model, collator, processor, spec, seed: int, n: int, batch_size: int) -> dict:
    """Teacher-forced answer accuracy (%) per question family on n held-out examples, and overall."""
    model.eval()
    hits, totals = collections.Counter(), collections.Counter()
    for s in range(0, n, batch_size):
        idx = range(HELD_OUT_OFFSET + s, HELD_OUT_OFFSET + min(n, s + batch_size))
        exs = [corpus.example(seed, i) for i in idx]
        batch = collator([encode_example(ex, i, processor, spec) for ex, i in zip(exs, idx)])
        labels = batch.pop("labels")
        ok = answer_correct(model(**batch).logits, labels)
        for ex, c in zip(exs, ok.tolist()):
            hits[ex.family] += c
            totals[ex.family] += 1
    model.train()
    acc = {f: round(100.0 * hits[f] / totals[f], 1) for f in sorted(totals)}
    acc["all"] = round(100.0 * sum(hits.values()) / max(1, sum(totals.values())), 2)
    return acc


def git_revision() -> str:
    """HEAD of the repository holding this code, '+dirty' when it has uncommitted changes."""
    here = Path(__file__).resolve().parent
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "."], cwd=here.parent, capture_output=True, text=True
        ).stdout
        return rev + ("+dirty" if dirty.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def settings_of(args) -> dict:
    keys = ("architecture", "seed", *TRAINING_KEYS, *DIM_KEYS, "tokenizer_examples")
    return {k: getattr(args, k) for k in keys}


def command_line(args) -> str:
    """The full command that rebuilds this base (every setting spelled out)."""
    opts = {**settings_of(args), "out": args.out}
    return "livr pretrain-tiny " + " ".join(f"--{k.replace('_', '-')} {shlex.quote(str(v))}" for k, v in opts.items())


def dims_of(args) -> TinyDims:
    return TinyDims(**{k: getattr(args, k) for k in DIM_KEYS})


def check_args(args) -> None:
    spec = get_backbone(args.architecture)
    if not spec.tiny or spec.pretrained:
        raise InputError(
            f"--architecture {args.architecture!r}: must be a tiny backbone built from config; valid: "
            + ", ".join(n for n, s in REGISTRY.items() if s.tiny and not s.pretrained)
        )
    if args.workers > 1:  # each worker would replay the whole stream: every batch would train twice
        raise InputError(f"--workers {args.workers}: 0 or 1 (the example stream is not split across workers)")
    if args.hidden % args.heads or args.hidden // args.heads != 32:
        raise InputError(
            f"--hidden {args.hidden} / --heads {args.heads}: the head dimension must be 32 (M-RoPE sections)"
        )
    for name in ("steps", "batch_size", "warmup_steps", "save_every", "eval_every", "eval_examples"):
        if getattr(args, name) < (0 if name == "warmup_steps" else 1):
            raise InputError(f"--{name.replace('_', '-')} {getattr(args, name)}: must be positive")


def lr_lambda(args):
    """Linear warm-up, then cosine from lr down to lr * min_lr_ratio at the last step."""

    def f(step: int) -> float:
        if step < args.warmup_steps:
            return (step + 1) / args.warmup_steps
        progress = (step - args.warmup_steps) / max(1, args.steps - args.warmup_steps)
        return args.min_lr_ratio + (1 - args.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    return f


def pretrain(args) -> dict:
    from livr.model.processors import save_processor
    from livr.model.tiny import build_model_and_processor

    check_args(args)
    torch.set_num_threads(args.threads)
    t0 = time.time()
    revision = git_revision()  # of the code this run starts with
    spec = get_backbone(args.architecture)
    texts = tokenizer_texts(args.seed, args.tokenizer_examples)
    model, processor = build_model_and_processor(args.architecture, dims_of(args), texts)
    model.train()
    for p in model.parameters():
        p.requires_grad_(True)
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.ndim < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": args.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=args.lr,
        betas=(0.9, 0.999),
        eps=1e-8,
    )
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda(args))
    collator = Collator(model, processor.tokenizer.pad_token_id, spec, None)

    work = Path(args.work_dir)
    settings = settings_of(args)
    resume_key = {**settings, "corpus_version": corpus.CORPUS_VERSION}  # state of other settings or corpus: start over
    start, history, elapsed_before = 0, [], 0.0
    state_path = work / STATE
    if state_path.is_file():
        state = torch.load(state_path, weights_only=True)
        if json.loads(state["settings"]) == resume_key:
            model.load_state_dict(state["model"])
            opt.load_state_dict(state["optimizer"])
            sched.load_state_dict(state["scheduler"])
            start, elapsed_before = int(state["step"]), float(state["elapsed"])
            history = json.loads(state["history"])
            log.info("resuming from %s at step %d", state_path, start)
        else:
            log.warning("%s: saved with other settings; starting over", state_path)

    def save_state(step: int) -> None:
        work.mkdir(parents=True, exist_ok=True)
        with atomic_path(state_path) as tmp:
            torch.save(
                {
                    "settings": json.dumps(resume_key),
                    "model": model.state_dict(),
                    "optimizer": opt.state_dict(),
                    "scheduler": sched.state_dict(),
                    "step": step,
                    "elapsed": elapsed_before + time.time() - t0,
                    "history": json.dumps(history),
                },
                tmp,
            )

    stream = CorpusBatches(args.seed, args.batch_size, start, processor, spec, args.basic_steps)
    loader = torch.utils.data.DataLoader(
        stream, batch_size=None, num_workers=args.workers, prefetch_factor=None if args.workers == 0 else 4
    )
    window = collections.deque(maxlen=args.log_every)
    it = iter(loader)
    for step in range(start, args.steps):
        items = next(it)
        batch = collator(items)
        out = model(**batch)
        out.loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), args.max_grad_norm)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        with torch.no_grad():
            acc = answer_correct(out.logits, batch["labels"]).float().mean().item()
        window.append((out.loss.item(), acc))
        done = step + 1
        if done % args.log_every == 0 or done == args.steps:
            loss = sum(w[0] for w in window) / len(window)
            train_acc = 100 * sum(w[1] for w in window) / len(window)
            row = {
                "step": done,
                "loss": round(loss, 4),
                "train_accuracy": round(train_acc, 1),
                "lr": sched.get_last_lr()[0],
                "grad_norm": round(float(grad_norm), 3),
                "seconds": round(elapsed_before + time.time() - t0, 1),
            }
            if done % args.eval_every == 0 or done == args.steps:
                row["held_out"] = held_out_accuracy(model, collator, processor, spec, args.seed, args.eval_examples, 16)
            history.append(row)
            log.info(
                "step %d/%d: loss %.4f, train answer accuracy %.1f%%, lr %.2e%s",
                done,
                args.steps,
                loss,
                train_acc,
                row["lr"],
                f", held-out {row['held_out']['all']}%" if "held_out" in row else "",
            )
        if done % args.save_every == 0 and done < args.steps:
            save_state(done)
    final = history[-1]
    manifest = {
        "command": command_line(args),
        "code_revision": revision,
        "architecture": args.architecture,
        "family": spec.family,
        "dims": dims_of(args).__dict__,
        "parameters": sum(p.numel() for p in model.parameters()),
        "weights_dtype": "float32",
        "corpus": {
            "module": "livr.data.pretrain_corpus",
            "version": corpus.CORPUS_VERSION,
            "seed": args.seed,
            "examples_seen": args.steps * args.batch_size,
            "families": list(corpus.FAMILY_NAMES),
            "held_out": {"first_index": HELD_OUT_OFFSET, "examples": args.eval_examples},
        },
        "tokenizer": {
            "trained_on": f"text of {args.tokenizer_examples} corpus examples + chat words and 0-100",
            "vocab_size": len(processor.tokenizer),
        },
        "training": {k: settings[k] for k in TRAINING_KEYS}
        | {"optimizer": "AdamW", "schedule": "warm-up + cosine", "loss": "answer tokens only"},
        "final_loss": final["loss"],
        "final_train_accuracy": final["train_accuracy"],
        "final_held_out_accuracy": final.get("held_out"),
        "wall_seconds": round(elapsed_before + time.time() - t0, 1),
        "threads": args.threads,
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "transformers": __import__("transformers").__version__,
        },
        "history": history,
    }
    model.eval()
    with atomic_dir(args.out) as tmp:
        model.save_pretrained(tmp)
        save_processor(processor, tmp)
        write_json(tmp / "manifest.json", manifest)
    state_path.unlink(missing_ok=True)
    return manifest


def configure(parser) -> None:
    parser.add_argument(
        "--architecture",
        default="tiny-qwen2.5-vl",
        help="the tiny backbone whose architecture and tokenizer specials are built (default: tiny-qwen2.5-vl)",
    )
    parser.add_argument(
        "--out", required=True, help="directory to write (replaced atomically), e.g. livr/model/pretrained/NAME"
    )
    parser.add_argument(
        "--work-dir", default=None, help="resumable training state (default: runs/pretrain-tiny/<out name>)"
    )
    parser.add_argument("--seed", type=int, default=0, help="corpus seed (the example stream)")
    parser.add_argument("--steps", type=int, default=12000)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--min-lr-ratio", type=float, default=0.05, help="cosine floor as a fraction of --lr")
    parser.add_argument("--warmup-steps", type=int, default=300)
    parser.add_argument("--weight-decay", type=float, default=0.01)
    parser.add_argument("--max-grad-norm", type=float, default=1.0)
    for f in dataclasses.fields(TinyDims):  # the architecture sizes; defaults: the random tiny builds'
        vocab_help = "upper bound; BPE stops when the corpus has no more merges"
        parser.add_argument(
            f"--{f.name.replace('_', '-')}", type=int, default=f.default, help=vocab_help if f.name == "vocab" else None
        )
    parser.add_argument(
        "--basic-steps",
        type=int,
        default=600,
        help="curriculum: the first steps (rounded up to whole chunks of 8) train on the basic naming families only",
    )
    parser.add_argument("--tokenizer-examples", type=int, default=5000)
    parser.add_argument("--eval-every", type=int, default=1000, help="held-out accuracy this often (steps)")
    parser.add_argument("--eval-examples", type=int, default=448)
    parser.add_argument("--log-every", type=int, default=100)
    parser.add_argument("--save-every", type=int, default=500, help="resumable state this often (steps)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads for training")
    parser.add_argument(
        "--workers", type=int, default=1, help="data-generating worker processes (0: in the main process)"
    )


def main(args) -> int:
    if args.work_dir is None:
        args.work_dir = str(Path("runs") / "pretrain-tiny" / Path(args.out).name)
    manifest = pretrain(args)
    print(
        f"pretrained {args.architecture} into {args.out}: {manifest['training']['steps']} steps, final loss "
        f"{manifest['final_loss']}, held-out answer accuracy {(manifest['final_held_out_accuracy'] or {}).get('all')}%"
    )
    return 0
