"""`sheetsync data`: build synthetic datasets and check datasets against the format."""

from __future__ import annotations

from sheetsync.cli._common import add_command

DESCRIPTION = """\
Make and check datasets in the sheetsync format (page images + onsets + audio).

examples:
  sheetsync data build --out data/corpus              the default training corpus
  sheetsync data build my_scores/ --out data/mine     your own MusicXML/MEI/kern/ABC
  sheetsync data build --limit 5 --out data/tiny      a quick look
  sheetsync data build --composed-only --composed 40 --seed 1 --tempo-variants 1 --out data/dev-composed
                                                      new composed pieces only, for development
  sheetsync data check data/corpus
"""


def register(subparsers, manager) -> None:
    parser = add_command(subparsers, "data", "build or check datasets", DESCRIPTION)
    actions = parser.add_subparsers(dest="data_command", metavar="ACTION", title="actions")
    parser.set_defaults(run=lambda args: parser.print_help() or 2)
    _register_build(actions)
    _register_check(actions)


def _register_build(actions) -> None:
    parser = add_command(actions, "build", "engrave and synthesise a dataset", BUILD_DESCRIPTION)
    parser.add_argument("sources", nargs="*", metavar="SOURCE",
                        help="score files or folders (MusicXML .musicxml/.mxl/.xml, MEI, Humdrum .krn, ABC); "
                             "none: the default training corpus")
    parser.add_argument("--out", metavar="DIR", required=True, help="dataset folder to create or resume")
    parser.add_argument("--workers", type=int, default=None, metavar="N", help="parallel workers (default: all cores)")
    parser.add_argument("--limit", type=int, default=None, metavar="N", help="build at most N pieces of music")
    parser.add_argument("--seed", type=int, default=0, help="seed for layouts, tempi, timbres and splits (default: 0)")
    parser.add_argument("--tempo-variants", type=int, default=3, metavar="K",
                        help="renderings per piece at different tempi/curves/timbres/layouts (default: 3)")
    parser.add_argument("--composed", type=int, default=None, metavar="N",
                        help="procedurally composed piano pieces to add (default corpus: 150; with sources: 0)")
    parser.add_argument("--composed-only", action="store_true",
                        help="build only the composed pieces (--composed N, default 150): with a --seed the corpus "
                             "did not use, a development set of new music")
    parser.add_argument("--pdf", action="store_true", help="also write each piece's pages as score.pdf")
    parser.add_argument("--evaluation", action="store_true",
                        help="allow the reserved evaluation pieces (only for building an evaluation set)")
    parser.set_defaults(run=run_build)


BUILD_DESCRIPTION = """\
Engrave scores with verovio into page images, record every system's box and
every onset's page/system/x, synthesise piano audio from the exact onset
times, and write a dataset in the sheetsync format (see DATASET.md).

Each piece of music is rendered --tempo-variants times, each with its own
tempo (0.5-1.5x, accelerando, ritardando, rubato), timbre and page layout;
all renderings of one piece land in the same split. A rerun skips finished
pieces, so an interrupted build resumes where it stopped.
"""


def _register_check(actions) -> None:
    parser = add_command(actions, "check", "validate a dataset", "Validate a dataset against the sheetsync format\n"
                         "and print its size per split, or every violation.")
    parser.add_argument("root", metavar="DIR", help="dataset folder")
    parser.set_defaults(run=run_check)


def run_build(args) -> int:
    from sheetsync.data.build import build_command

    return build_command(args)


def run_check(args) -> int:
    from sheetsync.data.format import check_command

    return check_command(args.root)
