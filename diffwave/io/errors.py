"""User-facing errors: the CLIs print ``error: <message>`` on one line and exit non-zero."""


class UserError(Exception):
    """A problem with the user's input, files or options; the message is one line."""


def require_file(path, what: str) -> None:
    """UserError unless ``path`` is an existing, non-empty regular file; ``what`` names it."""
    if not path.exists():
        raise UserError(f"{what} not found: {path}")
    if path.is_dir():
        raise UserError(f"{what} is a directory, not a file: {path}")
    if path.stat().st_size == 0:
        raise UserError(f"{what} is empty (0 bytes): {path}")


def require_own_folder(path, owned: bool, what: str, holds: str) -> None:
    """UserError if ``path`` is a file, or a non-empty folder we did not write (``owned``):
    commands that replace files in their output folder must never do so in a user's folder.
    ``holds`` says what an owned folder would have held."""
    if path.exists() and not path.is_dir():
        raise UserError(f"{what} is a file, not a folder: {path}")
    if path.is_dir() and not owned and any(path.iterdir()):
        raise UserError(f"{what} is not empty and holds {holds}: {path} (choose a new or empty folder)")
