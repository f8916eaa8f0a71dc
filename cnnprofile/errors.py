"""User-facing errors: the CLI prints these as one line and exits with status 2."""


class CnnprofileError(Exception):
    """An error caused by the user's input (model name, shape, dtype, file...), not a bug."""


class UnknownModelError(CnnprofileError):
    pass


class InputError(CnnprofileError):
    pass


class TraceError(CnnprofileError):
    """The model could not run on the given input (e.g. the input is too small)."""


def first_line(error: BaseException, *, with_type: bool = False) -> str:
    """The first line of an error's message, for one-line reports; the type's name when there is no message.

    ``with_type`` prefixes the type's name (``"ValueError: ..."``) where the type is part of the news.
    """
    lines = str(error).strip().splitlines()
    if not lines:
        return type(error).__name__
    return f"{type(error).__name__}: {lines[0]}" if with_type else lines[0]
