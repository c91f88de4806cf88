"""A custom sheetsync adapter: print a line whenever the performer reaches one of the chosen measures.

Copy this file and make it yours. Run it with
    sheetsync follow examples/bach-bwv40.6.pdf --audio examples/bach-bwv40.6.flac \\
        -p examples/custom_adapter.py --announce-measure 5 --announce-measure 9
A plugin is a module whose functions are named after the hooks in sheetsync/hookspecs.py and marked with
@hookimpl. Every hook is optional, and each takes only the keyword arguments it names.
"""

from sheetsync import hookimpl

targets = set()  # the measures to announce; empty: this adapter stays quiet


@hookimpl
def sheetsync_addoption(parser):
    # Options added here appear in `sheetsync follow --help` under "plugin options".
    parser.add_argument("--announce-measure", type=int, action="append", default=[], metavar="N",
                        help="print a line when measure N is reached (repeatable)")


@hookimpl
def sheetsync_configure(config):
    # config.args holds the parsed options; config.control can reset, pause, resume or go_to_page.
    targets.update(config.args.announce_measure)


@hookimpl
def sheetsync_measure(position):
    # Called when the printed measure number changes (sheetsync_position runs every frame: keep that one cheap).
    if position.measure in targets:
        print(f"measure {position.measure} reached at {position.time:.2f} s on page {position.page}", flush=True)


@hookimpl
def sheetsync_session_end(session, reason):
    # Always called last (reason: end, stopped, interrupted or error): release resources here.
    targets.clear()
