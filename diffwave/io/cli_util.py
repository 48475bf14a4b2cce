"""Run a Typer app so that every failure is one line on stderr and a non-zero exit."""

from __future__ import annotations

import signal
import sys
import threading

import typer

from .errors import UserError

EXIT_USER = 1
EXIT_INTERRUPT = 130
EXIT_TERMINATED = 143


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


class Terminated(BaseException):
    """SIGTERM, raised so that cleanup (temporary files) runs before exiting; a BaseException,
    like Ctrl-C, so that no `except Exception` swallows it, and not a KeyboardInterrupt,
    which click turns into its own abort (exit 130)."""


def _on_sigterm(signum, frame) -> None:
    raise Terminated()


def run_app(app: typer.Typer, argv: list[str] | None = None, prog: str | None = None) -> int:
    """Invoke ``app``; map user errors, usage errors, Ctrl-C and SIGTERM to one-line messages.

    SIGTERM gets Ctrl-C's care while the command runs (its default would kill the process
    before temporary files are removed); the previous handler is put back afterwards.
    """
    command = typer.main.get_command(app)
    args = list(sys.argv[1:] if argv is None else argv)
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if main_thread else None
    try:
        return _invoke(command, args, prog)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _invoke(command, args: list[str], prog: str | None) -> int:
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
    except Terminated:
        print("error: terminated; no partial output was written", file=sys.stderr)
        return EXIT_TERMINATED
    except (typer.Abort, KeyboardInterrupt):
        print("error: interrupted; no partial output was written", file=sys.stderr)
        return EXIT_INTERRUPT
    except typer.Exit as exc:
        return exc.exit_code
    if code == EXIT_INTERRUPT:
        print("error: interrupted; no partial output was written", file=sys.stderr)
    return code if isinstance(code, int) else 0
