"""Run a Typer app so that every failure is one line on stderr and a non-zero exit."""

from __future__ import annotations

import sys

import typer

from .errors import UserError

EXIT_USER = 1
EXIT_INTERRUPT = 130


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def run_app(app: typer.Typer, argv: list[str] | None = None, prog: str | None = None) -> int:
    """Invoke ``app``; map user errors, usage errors and Ctrl-C to one-line messages."""
    command = typer.main.get_command(app)
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        # Non-standalone typer returns exit codes instead of raising (Ctrl-C comes back as 130).
        code = command.main(args=args or ["--help"], prog_name=prog, standalone_mode=False)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER
    except typer.TyperException as exc:  # usage errors: unknown option, bad value, missing argument
        message = " ".join(exc.format_message().split())
        print(f"error: {message}", file=sys.stderr)
        return int(getattr(exc, "exit_code", 2)) or 2
    except (typer.Abort, KeyboardInterrupt):
        print("error: interrupted; no partial output was written", file=sys.stderr)
        return EXIT_INTERRUPT
    except typer.Exit as exc:
        return exc.exit_code
    if code == EXIT_INTERRUPT:
        print("error: interrupted; no partial output was written", file=sys.stderr)
    return code if isinstance(code, int) else 0
