"""User-facing errors: the CLIs print ``error: <message>`` on one line and exit non-zero."""


class UserError(Exception):
    """A problem with the user's input, files or options; the message is one line."""
