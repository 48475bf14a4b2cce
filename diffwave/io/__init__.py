"""File and command-line plumbing: audio reading and writing, atomic outputs, value checks,
one-line user errors and the CLI runner."""
