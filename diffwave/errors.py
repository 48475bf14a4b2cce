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
