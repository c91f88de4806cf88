"""`sheetsync train`: the training loop, validation, checkpoints and resume.

Batches are `batch` streams x `length` frames with the LSTM state carried
between chunks (truncated back-propagation, reset per piece). The audio path
runs every frame; the U-Net draws maps for `unet_frames` frames per chunk,
which is what makes training affordable on a CPU. Dice loss, Adam; the
learning rate halves after `patience` epochs without validation improvement
and training stops after `stop_after`. The same code runs on one CPU, one GPU
or several processes under torchrun (DistributedDataParallel).
"""

from __future__ import annotations

import csv
import json
import os
import time
from contextlib import nullcontext
from functools import partial
from multiprocessing import get_context
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from sheetsync.devices import select_device
from sheetsync.errors import SheetsyncError
from sheetsync.model import checkpoint
from sheetsync.model.config import DEFAULT, NOTES, TINY, ModelConfig
from sheetsync.model.network import ScoreFollower
from sheetsync.train import distributed, state as saved_state
from sheetsync.train.augment import AudioAugment, augment_pages
from sheetsync.train.data import PieceTensors, load_piece_tensors, spectrogram_statistics, target_masks, windows
from sheetsync.train.losses import dice_loss, pixel_counts, spatial_cross_entropy
from sheetsync.model.reader import OUTPUTS
from sheetsync.score.images import MODEL_PAGE_HEIGHT
from sheetsync.train.pitch import PITCH_BINS, audio_pitch_loss, column_maps, column_width, page_pitch_loss
from sheetsync.train.reading import PageFeatures, crop_batch, reader_loss, reader_targets, register_counts
from sheetsync.train.streams import Streams

RUN_FILE = "run.json"
PAGES_PER_STREAM = 2


@dataclass(frozen=True)
class TrainSettings:
    """Everything that defines a training run (stored in the run folder)."""

    data: str
    out: str
    model: dict = field(default_factory=lambda: DEFAULT.to_dict())
    batch: int = 4
    length: int = 16
    unet_frames: int = 4
    lr: float = 1e-4
    weight_decay: float = 1e-5
    epoch_steps: int = 500
    max_epochs: int = 100
    patience: int = 5
    stop_after: int = 10
    valid_pieces: int = 8
    valid_frames: int = 600
    augment: bool = True
    seed: int = 0
    device: str = "auto"
    checkpoint_minutes: float = 10.0
    limit: int | None = None
    repeat_batch: bool = False
    pitch_weight: float = 0.0
    ce_weight: float = 0.0
    reader_steps: int = 0
    reader_crops: int = 16
    hearing_steps: int = 0
    hearing_frames: int = 1024
    freeze_pages: bool = False
    init: str | None = None

    def differences(self, other: "TrainSettings") -> list[str]:
        """'name: ours -> theirs' for each setting that makes `other` a different run (model settings by name)."""
        # The note reader (or the PH hearing) may be given more steps (or fewer) on resume: the same run, longer.
        ignore = {"max_epochs", "epoch_steps", "device", "checkpoint_minutes", "out", "model", "reader_steps",
                  "hearing_steps"}
        ours, theirs = asdict(self), asdict(other)
        changed = [(k, ours[k], theirs[k]) for k in ours if k not in ignore and ours[k] != theirs[k]]
        model, other_model = ModelConfig.from_dict(self.model).to_dict(), ModelConfig.from_dict(other.model).to_dict()
        changed += [(f"model.{k}", model[k], other_model[k]) for k in model if model[k] != other_model[k]]
        return [f"{name}: {a!r} -> {b!r}" for name, a, b in changed]


def settings_from_args(args) -> TrainSettings:
    config = (TINY if args.tiny else DEFAULT).replace(variant=args.variant)
    if args.page_height:
        config = config.replace(page_height=args.page_height)
    if args.conditioning:
        config = config.replace(conditioning=args.conditioning)
    if args.shortcut is not None:
        config = config.replace(shortcut=args.shortcut)
    if args.match_dim is not None:
        config = config.replace(match_dim=args.match_dim)
    if args.match_levels is not None:
        config = config.replace(match_levels=args.match_levels)
    if args.output_prior is not None:
        config = config.replace(output_prior=args.output_prior)
    if args.page_path == "notes":
        # Pitch supervision of a note-reader model goes to a head of its own: on the query it fought the match.
        config = config.replace(page_path="notes", conditioning="match", match_dim=NOTES.match_dim,
                                reader_rows=NOTES.reader_rows,
                                pitch_head=args.pitch_weight > 0 and args.variant != "PH")
    unet_frames = args.unet_frames or (args.length if config.matched else TrainSettings.unet_frames)
    return TrainSettings(data=str(Path(args.data).resolve()), out=str(Path(args.out)), model=config.to_dict(),
                         batch=args.batch, length=args.length, unet_frames=unet_frames, lr=args.lr,
                         epoch_steps=args.epoch_steps, max_epochs=args.max_epochs, seed=args.seed,
                         device=args.device, checkpoint_minutes=args.checkpoint_minutes, limit=args.limit,
                         augment=not args.no_augment, valid_pieces=args.valid_pieces,
                         valid_frames=args.valid_frames, repeat_batch=args.repeat_batch,
                         pitch_weight=args.pitch_weight, ce_weight=args.ce_weight,
                         reader_steps=args.reader_steps, reader_crops=args.reader_crops,
                         hearing_steps=args.hearing_steps,
                         freeze_pages=args.freeze_pages,
                         init=str(Path(args.init).resolve()) if args.init else None)


def train(settings: TrainSettings, resume: bool = False) -> dict:
    """Train (or resume) a run; returns the best validation metrics."""
    context = distributed.setup()
    try:
        return _Trainer(settings, resume, context).run()
    finally:
        distributed.teardown(context)


def prepare_run_folder(settings: TrainSettings, resume: bool) -> None:
    """Refuse to overwrite another run; on resume, insist on the same run."""
    out = Path(settings.out)
    record = out / RUN_FILE
    if resume:
        if not record.exists():
            raise SheetsyncError(f"nothing to resume in '{out}' (no {RUN_FILE})")
        previous = TrainSettings(**json.loads(record.read_text()))
        differences = previous.differences(settings)
        if differences:
            raise SheetsyncError(f"'{out}' holds a different run ({'; '.join(differences)}); resume it with "
                                 f"the same settings or choose a new --out folder")
        record.write_text(json.dumps(asdict(settings), indent=1))  # with its new length, reader steps, device
        return
    if out.exists() and any(out.iterdir()):
        what = "a training run" if record.exists() else "other files"
        raise SheetsyncError(f"'{out}' already holds {what}; use --resume to continue it or choose a new --out")
    out.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(asdict(settings), indent=1))


@dataclass
class Batch:
    """One step's tensors (see _Trainer._batch)."""

    windows: torch.Tensor  # (B, T, bins, ctx)
    pages: torch.Tensor  # (B, PAGES_PER_STREAM, H, W)
    masks: torch.Tensor  # (B, K, H, W), the K drawn steps' targets
    drawn: torch.Tensor  # (B, K) steps
    page_index: torch.Tensor  # (B, T) every step's page in the flattened page stack
    weights: torch.Tensor  # (B, K)
    keys: list | None = None  # (B * PAGES_PER_STREAM) names of the pages: (piece, page), None for a blank
    printed: torch.Tensor | None = None  # (B, PAGES_PER_STREAM * C, H, W) printed pitch bins (C = PITCH_BINS),
    # or the note reader's targets (C = its OUTPUTS)
    sounding: torch.Tensor | None = None  # (B, T, PITCH_BINS) pitch bins sounding
    playing: torch.Tensor | None = None  # (B, T) 1 for steps inside the piece


class _Trainer:
    def __init__(self, settings: TrainSettings, resume: bool, context: distributed.Context):
        self.settings, self.resume, self.context = settings, resume, context
        self.out = Path(settings.out)
        self.device = context.device or select_device(settings.device)
        self.config = ModelConfig.from_dict(settings.model)
        if settings.pitch_weight > 0 and not (self.config.matched and self.config.match_dim >= PITCH_BINS):
            raise SheetsyncError(f"pitch supervision needs match conditioning with at least {PITCH_BINS} "
                                 f"features (match_dim), not {self.config.conditioning} / {self.config.match_dim}")
        self.notes = self.config.page_path == "notes"
        if (settings.reader_steps or settings.freeze_pages) and not self.notes:
            raise SheetsyncError('--reader-steps and --freeze-pages need the "notes" page path (--page-path notes)')
        if settings.hearing_steps and self.config.variant != "PH":
            raise SheetsyncError("--hearing-steps needs the PH audio path (--variant PH)")
        if self.config.variant == "PH" and not (settings.hearing_steps or settings.pitch_weight > 0):
            raise SheetsyncError("the PH audio path learns what sounds from pitch supervision only: give "
                                 "--hearing-steps or --pitch-weight")
        self.page_features = None
        # The loss terms train.csv records, one column each (none beside the loss when Dice is alone).
        self.terms = ["dice"] + ["cross_entropy"] * (settings.ce_weight > 0) + ["pitch_page"] * (
            settings.pitch_weight > 0 and not settings.freeze_pages) + ["pitch_audio"] * (settings.pitch_weight > 0)
        self.terms = (self.terms if len(self.terms) > 1 else []) + ["reader"] * (settings.reader_steps > 0) + [
            "hearing"] * (settings.hearing_steps > 0)

    def log(self, message: str) -> None:
        if self.context.main:
            print(message, flush=True)

    def run(self) -> dict:
        from sheetsync.data.format import load_dataset

        dataset = load_dataset(self.settings.data)
        if self.context.main:
            prepare_run_folder(self.settings, self.resume)
        distributed.barrier(self.context)
        train_ids, valid_ids = self._splits(dataset)
        train = self._load(dataset, train_ids, "train")
        valid = self._load(dataset, valid_ids, "valid")
        torch.manual_seed(self.settings.seed)
        model = ScoreFollower(self.config)
        model.set_normalisation(*map(torch.from_numpy, spectrogram_statistics(train)))
        if self.settings.init and not self.resume:
            self.log(_start_from(model, self.settings.init))
        model.to(self.device)
        optimiser = torch.optim.Adam(model.parameters(), lr=self.settings.lr, weight_decay=self.settings.weight_decay)
        streams = Streams(train, self.settings.batch, self.settings.length, self.settings.seed * 1000 + self.context.rank)
        loop = saved_state.LoopState(lr=self.settings.lr)
        lstm = None
        generator = torch.Generator().manual_seed(self.settings.seed * 1000 + self.context.rank)
        if self.resume:
            lstm = saved_state.load(self.out, model, optimiser, streams, loop, generator, self.context.rank)
            self.log(f"resuming at step {loop.step} (epoch {loop.epoch})")
        wrapped = distributed.wrap(model, self.context)
        if self.settings.freeze_pages:
            self.page_features = PageFeatures(model)
        return self._loop(model, wrapped, optimiser, streams, train, valid, loop, lstm, generator, dataset)

    def _splits(self, dataset) -> tuple[list[str], list[str]]:
        train_ids = list(dataset.split("train") if "train" in dataset.splits else dataset.pieces)
        valid_ids = list(dataset.splits.get("valid", ()))
        if not valid_ids:
            valid_ids = train_ids[: max(1, len(train_ids) // 10)]
            self.log("the dataset has no valid split: validating on training pieces")
        if self.settings.limit:
            train_ids = train_ids[: self.settings.limit]
        rng = np.random.default_rng(self.settings.seed)
        valid_ids = [valid_ids[i] for i in sorted(rng.permutation(len(valid_ids))[: self.settings.valid_pieces])]
        return train_ids, valid_ids

    def _load(self, dataset, ids: list[str], name: str) -> list[PieceTensors]:
        from tqdm import tqdm

        cache = Path(self.settings.data) / ".cache"
        if not os.access(Path(self.settings.data), os.W_OK):
            cache = self.out / "cache"
        load = partial(load_piece_tensors, dataset, cache=cache, page_height=self.config.page_height)
        workers = min(os.cpu_count() or 1, 8) if len(ids) > 16 else 1
        with get_context("spawn").Pool(workers) if workers > 1 else nullcontext() as pool:
            loaded = pool.imap(load, ids, chunksize=4) if pool else map(load, ids)
            return list(tqdm(loaded, total=len(ids), desc=f"loading {name}", unit="piece",
                             disable=not self.context.main, leave=False))

    def _batch(self, chunks, pieces, augmented, streams: Streams) -> Batch:
        """Tensors for one step: the windows; the pages each stream shows, PAGES_PER_STREAM a stream (a chunk
        spans a page turn at most once); the masks of the drawn frames; with pitch supervision its targets."""
        settings, context = self.settings, self.config.frames_in
        window_rows, drawn, weights, page_rows, mask_rows, slot_rows, shown_pages = [], [], [], [], [], [], []
        for stream, chunk in enumerate(chunks):
            piece = pieces[chunk.piece]
            if augmented.get(stream, (None,))[0] != (chunk.piece, chunk.augment_seed):
                rng = np.random.default_rng(chunk.augment_seed)
                spectrogram = (AudioAugment.draw(rng, piece.spectrogram.shape[1]).apply(piece.spectrogram, rng)
                               if settings.augment else piece.spectrogram)
                augmented[stream] = ((chunk.piece, chunk.augment_seed), spectrogram)
            window_rows.append(windows(augmented[stream][1], chunk.frames, context))
            candidates = np.flatnonzero(chunk.valid)
            rng = streams.rng(stream)
            if len(candidates) == 0:
                chosen, weight = rng.choice(len(chunk.frames), settings.unet_frames), np.zeros(settings.unet_frames)
            else:
                chosen = rng.choice(candidates, settings.unet_frames, replace=len(candidates) < settings.unet_frames)
                weight = np.ones(settings.unet_frames)
            drawn.append(np.sort(chosen))
            weights.append(weight)
            page_numbers = np.maximum(piece.page[chunk.frames], 0)
            shown = list(dict.fromkeys(page_numbers.tolist()))[:PAGES_PER_STREAM]
            slots = np.array([shown.index(p) if p in shown else 0 for p in page_numbers])
            slot_rows.append(slots)
            shown_pages.append(shown)
            page_rows.append([piece.pages[p] for p in shown])
            frames = chunk.frames[drawn[-1]]
            mask_rows.append([target_masks(piece, frames[k:k + 1], piece.pages[shown[slots[i]]].shape)[0]
                              for k, i in enumerate(drawn[-1])])
        height = max(p.shape[0] for row in page_rows for p in row)
        width = max(p.shape[1] for row in page_rows for p in row)
        pages = torch.zeros(len(chunks), PAGES_PER_STREAM, height, width)
        masks = torch.zeros(len(chunks), settings.unet_frames, height, width)
        for i, (row, mask_row) in enumerate(zip(page_rows, mask_rows)):
            for k, page in enumerate(row):
                pages[i, k, :page.shape[0], :page.shape[1]] = torch.from_numpy(page.astype(np.float32) / 255)
            for k, mask in enumerate(mask_row):
                masks[i, k, :mask.shape[0], :mask.shape[1]] = torch.from_numpy(mask)
        page_index = np.stack(slot_rows) + PAGES_PER_STREAM * np.arange(len(chunks))[:, None]
        keys = [(chunk.piece, shown[k]) if k < len(shown) else None
                for chunk, shown in zip(chunks, shown_pages) for k in range(PAGES_PER_STREAM)]
        batch = Batch(torch.from_numpy(np.stack(window_rows).astype(np.float32)), pages, masks,
                      torch.from_numpy(np.stack(drawn)), torch.from_numpy(page_index),
                      torch.from_numpy(np.stack(weights)).float(), keys)
        return self._add_pitch(batch, chunks, pieces, shown_pages) if settings.pitch_weight > 0 else batch

    def _add_pitch(self, batch: Batch, chunks, pieces, shown_pages) -> Batch:
        """The batch with its pitch targets: what each shown page prints (its note columns' registers, or the
        note reader's targets) and what each step sounds."""
        sounding = torch.from_numpy(np.stack([pieces[c.piece].sounding[c.frames] for c in chunks]))
        playing = torch.from_numpy(np.stack([c.valid for c in chunks])).float()
        if self.settings.freeze_pages:  # the page path learns nothing more
            return replace(batch, sounding=sounding, playing=playing)
        streams, slots, height, width = batch.pages.shape
        channels = OUTPUTS if self.notes else PITCH_BINS
        printed = torch.zeros(streams, slots * channels, height, width)
        column = column_width(self.config.page_height)
        for i, (chunk, shown) in enumerate(zip(chunks, shown_pages)):
            piece = pieces[chunk.piece]
            for k, number in enumerate(shown):
                shape = piece.pages[number].shape
                maps = (reader_targets(piece.heads[number], piece.boxes[number], shape) if self.notes
                        else column_maps(piece.columns[number], shape, column))
                printed[i, k * channels:(k + 1) * channels, :maps.shape[1], :maps.shape[2]] = torch.from_numpy(maps)
        return replace(batch, printed=printed, sounding=sounding, playing=playing)

    def _loop(self, model, wrapped, optimiser, streams, train, valid, loop, lstm, generator, dataset) -> dict:
        from tqdm import tqdm

        settings = self.settings
        total = settings.max_epochs * settings.epoch_steps
        progress = tqdm(total=total, initial=loop.step, desc="training", unit="step", dynamic_ncols=True,
                        disable=not self.context.main)
        augmented: dict[int, tuple] = {}
        repeated = None
        last_save = time.monotonic()
        started, started_step = time.monotonic(), loop.step
        autocast = torch.autocast("cuda", dtype=torch.bfloat16) if self.device.type == "cuda" else nullcontext()
        while loop.step < total and loop.bad_epochs < settings.stop_after:
            stage = self._stage(loop.step)
            if stage:
                batch = None
            elif settings.repeat_batch and repeated is not None:
                batch = repeated
                lstm = None
            else:
                chunks = streams.next()
                lstm = _reset_rows(lstm, [c.reset for c in chunks])
                batch = self._batch(chunks, train, augmented, streams)
                if settings.augment and not settings.freeze_pages:
                    batch = _augment(batch, generator)
                if settings.repeat_batch:
                    if batch.weights.sum() == 0:
                        continue  # nothing plays yet in this chunk: repeat one that has a target
                    repeated = batch
            wrapped.train()
            with autocast:
                if stage == "reading":
                    loss, new_state, terms = self._reading_loss(model, train, loop.step)
                elif stage == "hearing":
                    loss, new_state, terms = self._hearing_loss(model, train, loop.step)
                else:
                    loss, new_state, terms = self._loss(wrapped, batch, lstm)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            if stage:
                distributed.average_gradients(model.reader if stage == "reading" else model.audio.encoder,
                                              self.context)
            optimiser.step()
            lstm = tuple(s.detach().cpu() for s in new_state) if new_state is not None else None
            loop.step += 1
            loss_value = distributed.mean(float(loss.detach()), self.context)
            progress.update(1)
            rate = (loop.step - started_step) / max(time.monotonic() - started, 1e-9)
            progress.set_postfix(loss=f"{loss_value:.3f}", lr=f"{loop.lr:.1e}", steps_s=f"{rate:.2f}")
            if self.context.main:
                _append_csv(self.out / "train.csv", {"step": loop.step, "epoch": loop.epoch, "loss": loss_value,
                                                     **{name: terms.get(name, "") for name in self.terms},
                                                     "lr": loop.lr, "steps_per_s": rate})
            if loop.step % settings.epoch_steps == 0:
                self._end_epoch(model, optimiser, valid, loop, dataset, progress)
            if time.monotonic() - last_save > settings.checkpoint_minutes * 60 or loop.step % settings.epoch_steps == 0:
                saved_state.save(self.out, model, optimiser, streams, loop, generator, lstm, self.context)
                last_save = time.monotonic()
        saved_state.save(self.out, model, optimiser, streams, loop, generator, lstm, self.context)
        progress.close()
        if self.context.main and not (self.out / "best" / checkpoint.RECORD).exists():
            self._end_epoch(model, optimiser, valid, loop, dataset, None)
            if not (self.out / "best" / checkpoint.RECORD).exists():  # the note reader's (or hearing's) steps alone
                checkpoint.save(self.out / "best", model, self._record(loop, dataset))
        return loop.best_metrics

    def _stage(self, step: int) -> str | None:
        """"reading" (the note reader's steps), "hearing" (then the PH encoder's) or None (the whole model's)."""
        if step < self.settings.reader_steps:
            return "reading"
        return "hearing" if step < self.settings.reader_steps + self.settings.hearing_steps else None

    def _hearing_loss(self, model, pieces, step: int):
        """A step of teaching the PH encoder alone which registers sound, on frames drawn from all over the
        training pieces: its loss, the LSTM state untouched (None) and its term for the log."""
        rng = np.random.default_rng((self.settings.seed, step, self.context.rank, 1))
        drawn = rng.integers(len(pieces), size=self.settings.hearing_frames)
        frames, sounding = [], []
        for index in np.unique(drawn):
            piece = pieces[index]
            at = rng.integers(len(piece.spectrogram), size=int((drawn == index).sum()))
            frames.append(windows(piece.spectrogram, at, self.config.frames_in))
            sounding.append(piece.sounding[at])
        heard = model.audio.pitch_logits(torch.from_numpy(np.concatenate(frames))[None].to(self.device))
        sounding = torch.from_numpy(np.concatenate(sounding))[None].to(self.device)
        loss = audio_pitch_loss(heard, sounding, torch.ones(sounding.shape[:2], device=self.device))
        return loss, None, {"hearing": float(loss.detach())}

    def _reading_loss(self, model, pieces, step: int):
        """A step of teaching the note reader alone (sheetsync.train.reading): its loss, the LSTM state
        untouched (None) and its term for the log."""
        rng = np.random.default_rng((self.settings.seed, step, self.context.rank))
        images, targets = crop_batch(pieces, self.settings.reader_crops, rng,
                                     self.config.page_height / MODEL_PAGE_HEIGHT, whole_rows=self.config.reader_rows)
        loss = reader_loss(model.reader(images.to(self.device)), targets.to(self.device))
        return loss, None, {"reader": float(loss.detach())}

    def _loss(self, wrapped, batch: Batch, lstm):
        """The step's loss (Dice, plus the weighted spatial cross-entropy and pitch terms), the new state and
        each term's value (this process's) for the log."""
        settings, device = self.settings, self.device
        pages = batch.pages.flatten(0, 1)[:, None].to(device)
        features = self.page_features(batch.keys, pages) if self.page_features else None
        outputs = wrapped(pages, batch.windows.to(device), _to(lstm, device), page_index=batch.page_index.to(device),
                          steps=batch.drawn.to(device), parts=settings.pitch_weight > 0, page_features=features)
        logits, state = outputs[0][:, :, 0].float(), outputs[1]
        masks, weights = batch.masks.to(device), batch.weights.to(device)
        terms = {"dice": dice_loss(logits, masks, weights)}
        if settings.ce_weight > 0:
            terms["cross_entropy"] = spatial_cross_entropy(logits, masks, weights)
        if settings.pitch_weight > 0:
            parts, sounding, playing = outputs[2], batch.sounding.to(device), batch.playing.to(device)
            if parts.features is not None:  # None: a frozen page path, only the audio learns
                printed = batch.printed.reshape(-1, OUTPUTS if self.notes else PITCH_BINS,
                                                *batch.printed.shape[-2:])[parts.pages.cpu()].to(device)
                terms["pitch_page"] = (reader_loss if self.notes else page_pitch_loss)(parts.features, printed)
            terms["pitch_audio"] = audio_pitch_loss(parts.pitches, sounding, playing)
        loss = (terms["dice"] + settings.ce_weight * terms.get("cross_entropy", 0.0)
                + settings.pitch_weight * (terms.get("pitch_page", 0.0) + terms.get("pitch_audio", 0.0)))
        return loss, state, {name: float(value.detach()) for name, value in terms.items()}

    def _end_epoch(self, model, optimiser, valid, loop, dataset, progress) -> None:
        metrics = validate(model, valid, self.config, self.settings, self.device) if self.context.main else {}
        metrics = distributed.broadcast(metrics, self.context)
        loop.epoch += 1
        # In the note reader's or the hearing's steps the match has learnt nothing yet: nothing to keep or judge.
        reading = loop.step <= self.settings.reader_steps + self.settings.hearing_steps
        improved = metrics["dice_loss"] < loop.best_loss and not reading
        if improved:
            loop.best_loss, loop.best_metrics, loop.bad_epochs = metrics["dice_loss"], metrics, 0
            if self.context.main:
                checkpoint.save(self.out / "best", model, self._record(loop, dataset))
        elif not reading:
            loop.bad_epochs += 1
            if loop.bad_epochs % self.settings.patience == 0:
                loop.lr /= 2
                for group in optimiser.param_groups:
                    group["lr"] = loop.lr
        if self.context.main:
            _append_csv(self.out / "valid.csv", {"epoch": loop.epoch, "step": loop.step, **metrics, "lr": loop.lr})
            pitch = "".join(f", {name} {metrics[name]:.3f}" for name in ("pitch_audio_f1", "pitch_page_f1")
                            if name in metrics)
            line = (f"epoch {loop.epoch}: valid dice loss {metrics['dice_loss']:.4f}, F1 {metrics['f1']:.3f}"
                    f"{pitch}{' (best)' if improved else ''}")
            (progress.write if progress else print)(line)

    def _record(self, loop, dataset) -> dict:
        return {"training": {"data": self.settings.data, "pieces": len(dataset.split("train")),
                             "steps": loop.step, "epochs": loop.epoch, "settings": asdict(self.settings),
                             "processes": self.context.world, "device": self.device.type},
                "validation": loop.best_metrics}


def validate(model, pieces: list[PieceTensors], config: ModelConfig, settings: TrainSettings, device) -> dict:
    """Dice loss and pixel precision/recall/F1 (threshold 0.5) over the opening frames of the valid pieces;
    with pitch supervision also the F1 of each side's pitch bins (see pitch_counts)."""
    model.eval()
    totals = np.zeros(3)
    pitch = np.zeros((2, 3)) if settings.pitch_weight > 0 else None
    losses = []
    every = max(1, settings.length // settings.unet_frames)
    with torch.no_grad():
        for piece in pieces:
            count = min(len(piece), settings.valid_frames)
            pages = torch.stack([torch.from_numpy(page.astype(np.float32) / 255) for page in piece.pages])
            if pitch is not None:
                pitch += pitch_counts(model, piece, pages, count, device)
            features = model.read_page(pages[:, None].to(device))[0] if config.matched else None
            state = None
            for start in range(0, count, settings.length):
                frames = np.arange(start, min(start + settings.length, count))
                window = torch.from_numpy(windows(piece.spectrogram, frames, config.frames_in).astype(np.float32))
                drawn = np.arange(0, len(frames), every)
                drawn = drawn[piece.page[frames[drawn]] >= 0]
                if len(drawn) == 0:
                    _, state = model.audio(window[None].to(device), state)
                    continue
                numbers = np.maximum(piece.page[frames[drawn]], 0)
                masks = torch.from_numpy(np.stack([target_masks(piece, frames[k:k + 1], piece.pages[p].shape)[0]
                                                   for k, p in zip(drawn, numbers)]))
                page_index = torch.zeros(1, len(frames), dtype=torch.long)
                page_index[0, torch.from_numpy(drawn)] = torch.from_numpy(numbers.astype(np.int64))
                logits, state = model(pages[:, None].to(device), window[None].to(device), state,
                                      page_index=page_index.to(device), steps=torch.from_numpy(drawn)[None].to(device),
                                      page_features=features)
                logits = logits[0, :, 0].float().cpu()
                losses.append(float(dice_loss(logits[None], masks[None], torch.ones(1, len(drawn)))))
                totals += pixel_counts(torch.sigmoid(logits) >= 0.5, masks > 0.5)
    true_positive, predicted, actual = totals
    precision = true_positive / predicted if predicted else 0.0
    recall = true_positive / actual if actual else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    scores = {"dice_loss": float(np.mean(losses)) if losses else 1.0, "precision": float(precision),
              "recall": float(recall), "f1": float(f1)}
    if pitch is not None:
        scores["pitch_audio_f1"], scores["pitch_page_f1"] = (_f1(*counts) for counts in pitch)
    return scores


def pitch_counts(model, piece: PieceTensors, pages: torch.Tensor, count: int, device) -> np.ndarray:
    """[[tp, predicted, actual]] of pitch bins said (logit > 0) by the query of each of the first `count`
    frames against what sounds, and by the page features of each pixel in a note column against what is
    printed there (a note reader: its register at each notehead against the printed one)."""
    config = model.config
    frames = np.arange(count)
    window = torch.from_numpy(windows(piece.spectrogram, frames, config.frames_in).astype(np.float32))
    z, _ = model.audio(window[None].to(device), None)
    said = model.pitch_logits(window[None].to(device), z)[0].cpu() > 0
    audio = pixel_counts(said, torch.from_numpy(piece.sounding[frames]) > 0.5)
    page = np.zeros(3)
    column = column_width(config.page_height)
    for number, image in enumerate(pages):
        if model.reader is not None:  # one register a notehead: F1 is the share read right
            right, _, heads = register_counts(model.reader(model.pad(image[None, None].to(device)))[0],
                                              piece.heads[number])
            page += (right, heads, heads)
            continue
        cache = model.prepare_page(image)
        printed = torch.from_numpy(column_maps(piece.columns[number], image.shape, column)) > 0.5
        inside = printed.any(0, keepdim=True).expand_as(printed)
        features = cache.features[0, :PITCH_BINS, :cache.height, :cache.width].cpu() > 0
        page += pixel_counts(features & inside, printed)
    return np.stack([audio, page])


def _f1(true_positive: float, predicted: float, actual: float) -> float:
    return float(2 * true_positive / (predicted + actual)) if predicted + actual else 0.0


def _augment(batch: Batch, generator: torch.Generator) -> Batch:
    """The batch with its pages, masks and printed pitch bins warped alike (see augment_pages)."""
    targets = batch.masks if batch.printed is None else torch.cat([batch.masks, batch.printed], 1)
    pages, targets = augment_pages(batch.pages, targets, generator)
    masks, printed = targets[:, :batch.masks.shape[1]], targets[:, batch.masks.shape[1]:]
    return replace(batch, pages=pages, masks=masks, printed=None if batch.printed is None else printed)


def _start_from(model, path: str) -> str:
    """Copy into `model` the weights of the checkpoint at `path` that fit it (same name and shape; a layer's
    tensors all fit or none is copied: a bias without its weights would fight the new ones); say what."""
    source = checkpoint.load(path)[0].state_dict()
    target = model.state_dict()
    fits = {name: name in target and target[name].shape == value.shape for name, value in source.items()}
    layer_fits: dict[str, bool] = {}
    for name, fit in fits.items():
        layer = name.rpartition(".")[0]
        layer_fits[layer] = layer_fits.get(layer, True) and fit
    fitting = {name: value for name, value in source.items() if layer_fits[name.rpartition(".")[0]]}
    if not fitting:
        raise SheetsyncError(f"no weights of the checkpoint '{path}' fit this model")
    model.load_state_dict(fitting, strict=False)
    return f"started from {len(fitting)} of {len(target)} weights of '{path}'"


def _reset_rows(lstm, resets: list[bool]):
    if lstm is None:
        return None
    keep = torch.tensor([0.0 if r else 1.0 for r in resets])[None, :, None]
    return tuple(s * keep for s in lstm)


def _to(lstm, device):
    return None if lstm is None else tuple(s.to(device) for s in lstm)


def _append_csv(path: Path, row: dict) -> None:
    new = not path.exists()
    with path.open("a", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(row))
        if new:
            writer.writeheader()
        writer.writerow(row)
