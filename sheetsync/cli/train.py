"""`sheetsync train`: train the audio-conditioned U-Net on a dataset."""

from __future__ import annotations

from sheetsync.cli._common import add_command

DESCRIPTION = """\
Train a score-following model on a dataset in the sheetsync format (see
`sheetsync data`). The run folder gets train.csv and valid.csv logs, the
resumable state in last/ (saved every --checkpoint-minutes and each epoch)
and the best model so far in best/, a checkpoint `follow` and `evaluate`
accept with --checkpoint RUN_DIR/best.

Batches are --batch streams of --length frames; each stream plays whole
pieces with the LSTM state carried from chunk to chunk. The U-Net draws
maps for --unet-frames frames of each chunk (the paper used all 16; fewer is
what makes CPU training affordable).

examples:
  sheetsync train --data data/corpus --out runs/cb
  sheetsync train --data data/corpus --out runs/cb --resume       after a stop or a kill
  sheetsync train --data data/tiny --out runs/t --tiny --max-epochs 1 --epoch-steps 20
  torchrun --nproc-per-node 2 -m sheetsync train --data data/corpus --out runs/ddp
  sheetsync train --data data/corpus --out runs/p --pitch-weight 1 --ce-weight 0.1 --batch 8 --length 8 --lr 1e-3

the shipped model's recipe (README, Training): a note reader, the pitch history, reading along rows, more
reading, then the hearing alone
(the third stage taught its reader, which predates reader_rows, to look along its rows; a reader built now
does from the first stage, so that --reader-crops 4 suits it there too)
  sheetsync train --data data/corpus --out runs/n1 --page-path notes --reader-steps 1800 \
      --epoch-steps 300 --max-epochs 6 --lr 1e-3
  sheetsync train --data data/corpus --out runs/ph --init runs/n1/best --page-path notes --variant PH \
      --hearing-steps 1000 --freeze-pages --pitch-weight 1 --ce-weight 1 --batch 8 --length 16 --lr 3e-4
  sheetsync train --data data/corpus --out runs/rows --init runs/ph/best --page-path notes --variant PH \
      --reader-steps 1500 --reader-crops 4 --freeze-pages --pitch-weight 1 --ce-weight 1 --batch 8 \
      --length 16 --lr 1e-3 --epoch-steps 100 --max-epochs 16
  (then runs/rows2 and runs/rows3: 2200 and 2500 more reader steps the same way, --lr 1e-3 and 5e-4)
  sheetsync train --data data/corpus --out runs/hear1 --init runs/rows3/best --page-path notes --variant PH \
      --hearing-steps 3000 --freeze-pages --pitch-weight 1 --ce-weight 1 --batch 8 --length 16 --lr 1e-4 \
      --epoch-steps 200 --max-epochs 15
  (then runs/rows4: 4000 reader steps at --lr 3e-4, --epoch-steps 250 --max-epochs 16, and runs/hear2: the
  hearing again, as runs/hear1)
"""


def register(subparsers, manager) -> None:
    parser = add_command(subparsers, "train", "train a model on a dataset", DESCRIPTION)
    parser.add_argument("--data", metavar="DIR", required=True, help="dataset folder")
    parser.add_argument("--out", metavar="RUN_DIR", required=True, help="run folder (new, or existing with --resume)")
    parser.add_argument("--resume", action="store_true", help="continue the run in RUN_DIR where it stopped")
    parser.add_argument("--variant", choices=("CB", "FB", "NTC", "PH"), default="CB",
                        help="audio path: CB conv+LSTM (default), FB one frame+LSTM, NTC conv without LSTM, "
                             "PH pitch history (registers heard in the last 2 s) + LSTM")
    parser.add_argument("--conditioning", choices=("film", "match"), default=None,
                        help="match (default): the page read once, matched with the audio by a dot product "
                             "per frame (cheap per frame; all frames of a chunk get a map); film: the paper's "
                             "FiLM layers")
    parser.add_argument("--shortcut", type=int, metavar="FRAMES",
                        help="last frames fed linearly to the audio embedding beside the conv stages (default 3; "
                             "0: the paper's encoder)")
    parser.add_argument("--match-dim", type=int, metavar="D",
                        help="features per pixel with match conditioning (default 32; pitch supervision "
                             "needs 28 of them)")
    parser.add_argument("--match-levels", type=int, metavar="N",
                        help="decoder levels whose outputs make the match features (default 3; 1: the last "
                             "block alone, whose 8 channels cap the features' rank)")
    parser.add_argument("--output-prior", type=float, metavar="P",
                        help="probability every pixel starts at (default: 0.5, the paper's zero bias)")
    parser.add_argument("--page-path", choices=("unet", "notes"), default="unet",
                        help="what reads the page: the paper's U-Net (default), or the note reader, which learns "
                             "noteheads and their registers first and lays out what each column prints "
                             "(sets match conditioning)")
    parser.add_argument("--reader-steps", type=int, default=0, metavar="N",
                        help="with --page-path notes: the first N steps teach the note reader alone, on page crops")
    parser.add_argument("--reader-crops", type=int, default=16, metavar="N",
                        help="page crops per reader step (default 16; a reader that looks along its rows gets "
                             "crops as wide as the page, about three times the work each)")
    parser.add_argument("--hearing-steps", type=int, default=0, metavar="N",
                        help="with --variant PH: after the reader's steps, N steps teach the PH encoder alone "
                             "which registers sound (cheap: single frames, no pages)")
    parser.add_argument("--freeze-pages", action="store_true",
                        help="with --page-path notes: after the reader's steps, keep it fixed and its page "
                             "features cached (only the audio path learns; several times faster)")
    parser.add_argument("--init", metavar="CHECKPOINT",
                        help="start from the weights of this checkpoint that fit the model (fine-tuning, or a "
                             "new stage of a run with other settings)")
    parser.add_argument("--tiny", action="store_true", help="a tiny network (for tests and smoke runs)")
    parser.add_argument("--page-height", type=int, metavar="PIXELS",
                        help="page height the network reads (default 400, the paper's; 200 costs about a third but "
                             "blurs staff lines together)")
    parser.add_argument("--batch", type=int, default=4, help="parallel streams per step (default 4)")
    parser.add_argument("--length", type=int, default=16, help="frames per chunk (default 16)")
    parser.add_argument("--unet-frames", type=int, default=None,
                        help="frames per chunk that get a map and a loss (default 4 with film, all with match)")
    parser.add_argument("--lr", type=float, default=1e-4, help="Adam learning rate (default 1e-4)")
    parser.add_argument("--epoch-steps", type=int, default=500, help="steps between validations (default 500)")
    parser.add_argument("--max-epochs", type=int, default=100, help="stop after this many epochs (default 100)")
    parser.add_argument("--valid-pieces", type=int, default=8, help="validation pieces (default 8)")
    parser.add_argument("--valid-frames", type=int, default=600, help="opening frames validated per piece")
    parser.add_argument("--limit", type=int, default=None, help="train on the first N training pieces only")
    parser.add_argument("--repeat-batch", action="store_true",
                        help="train on the first batch over and over (a check that the model can learn at all)")
    parser.add_argument("--pitch-weight", type=float, default=0.0, metavar="W",
                        help="weight of the pitch-class supervision of both sides (match conditioning only: "
                             "pages learn which pitch classes each column prints, the audio which sound)")
    parser.add_argument("--ce-weight", type=float, default=0.0, metavar="W",
                        help="weight of a spatial cross-entropy beside the Dice loss (the band as a "
                             "distribution over the page; with pitch supervision 0.1 measured well, 1 drowned "
                             "the audio's pitch signal)")
    parser.add_argument("--no-augment", action="store_true", help="no audio or page augmentation")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--device", default="auto", help="auto (default), cpu or cuda")
    parser.add_argument("--checkpoint-minutes", type=float, default=10.0,
                        help="save the resumable state this often (default 10)")
    parser.set_defaults(run=run)


def run(args) -> int:
    from sheetsync.train.trainer import settings_from_args, train

    metrics = train(settings_from_args(args), resume=args.resume)
    if metrics:
        print("best validation: " + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()))
    return 0
