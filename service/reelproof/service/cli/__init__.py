"""The ``reelproof`` command line.

Exit codes (documented in the README): 0 ok; 1 an unexpected internal error (a bug: please
report it); 2 usage error; 3 bad input or configuration (the one-line message says what to do).

Heavy libraries (torch, diffusers) are imported inside the commands that need them, so that
``reelproof info`` and ``reelproof --help`` start fast.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

import typer

from reelproof.core.errors import ReelProofError
from reelproof.service.cli import groups
from reelproof.service.cli.info import info_command

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_BAD_INPUT = 3

app = typer.Typer(
    name="reelproof",
    help="ReelProof: watermarked, signed video generation and newsroom verification.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
app.command("info")(info_command)
groups.register_all(app)


def _wants_json(argv: Sequence[str]) -> bool:
    return "--json" in argv


def _report_error(err: ReelProofError, as_json: bool) -> None:
    """One line on stderr; with --json also one JSON object on stdout, so pipelines can parse it."""
    from reelproof.service.cli.output import clean

    sys.stderr.write(f"error: {clean(err)}\n")
    if as_json:
        body = {
            "error": {"type": type(err).__name__, "message": err.message, "hint": err.hint},
        }
        sys.stdout.write(json.dumps(body) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns (and with ``sys.exit``) the documented exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    code = run(args)
    if argv is None:
        sys.exit(code)
    return code


def run(args: list[str]) -> int:
    """Dispatch ``args`` and map exceptions to exit codes.

    Typer (standalone mode) formats usage errors itself and exits 2; ReelProof errors pass
    through it and become one line plus exit 3 here, never a traceback.
    """
    try:
        app(args=args, prog_name="reelproof", standalone_mode=True)
    except SystemExit as done:
        return _exit_status(done.code)
    except ReelProofError as err:
        _report_error(err, _wants_json(args))
        return err.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    return EXIT_OK


def _exit_status(code: object) -> int:
    if code is None:
        return EXIT_OK
    if isinstance(code, int):
        return code
    sys.stderr.write(f"{code}\n")  # sys.exit("message") convention
    return EXIT_INTERNAL
