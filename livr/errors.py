"""The one error type for bad input.

`livr` commands print an InputError as one line (`livr <command>: error: ...`, exit 2): the
message names the file, row or key and the valid choices. So is an output path that cannot be
written (`livr.io.OutputError`, checked before a command starts its work) and an OSError that says
the machine is in the way (no permission, a read-only or full disk: livr/cli.py). Any other
exception is a bug and keeps its traceback.
"""


class InputError(ValueError):
    """Bad input from the user: a params key, a path, a record, a name, a download."""
