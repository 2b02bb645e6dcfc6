"""The one error type for bad input.

`livr` commands print an InputError as one line (`livr <command>: error: ...`, exit 2): the
message names the file, row or key and the valid choices. Any other exception is a bug and keeps
its traceback.
"""


class InputError(ValueError):
    """Bad input from the user: a params key, a path, a record, a name, a download."""
