"""User-facing errors: the CLI prints these as one line and exits with status 2."""


class CnnprofileError(Exception):
    """An error caused by the user's input (model name, shape, dtype, file...), not a bug."""


class UnknownModelError(CnnprofileError):
    pass


class InputError(CnnprofileError):
    pass


class TraceError(CnnprofileError):
    """The model could not run on the given input (e.g. the input is too small)."""
