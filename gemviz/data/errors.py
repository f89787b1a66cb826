"""The one error type that gemviz shows to users.

Every problem caused by the user's input (a file, a field, an option) is raised as
:class:`GemvizError`. Its message names the file, the row and the field where they are known,
and says what to do. The command line prints it on one line; the pages show it with
``st.error``. Anything else that escapes is a bug in gemviz.
"""

from __future__ import annotations

import warnings


class GemvizError(ValueError):
    """A problem with the user's input, with a message fit to show as is.

    Args:
        message: What is wrong and what to do about it.
        file: The file concerned, if any.
        row: The 1-based row (record) number in that file, if any.
        field: The field (column, key) concerned, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        field: str | None = None,
    ) -> None:
        self.file = file
        self.row = row
        self.field = field
        self.detail = message
        where = []
        if file is not None:
            where.append(str(file))
        if row is not None:
            where.append(f"row {row}")
        if field is not None:
            where.append(f"field '{field}'")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class GemvizBatchError(GemvizError):
    """Every problem of one submission, found before any work was done.

    The command line prints the summary, then one line per problem; the pages show them as a
    list. ``str()`` joins them with line breaks.

    Args:
        summary: One line saying what was refused (e.g. how many files of how many).
        errors: The problems, one per bad file, each naming its file, row and field.
    """

    def __init__(self, summary: str, errors: list[GemvizError]) -> None:
        self.summary = summary
        self.errors = list(errors)
        super().__init__("\n".join([summary, *(f"  {e}" for e in self.errors)]))


class GemvizWarning(UserWarning):
    """Something in the input looks wrong but has a defined meaning; the work goes on.

    The command line prints it as one ``warning:`` line on stderr.
    """


def note(notes: list[str] | None, message: str) -> None:
    """Record a loading warning: appended to ``notes`` when the caller collects them.

    A loader given a list declares what it flags in its result (e.g.
    :attr:`gemviz.data.study.Study.warnings`); without one the message is issued as a
    :class:`GemvizWarning` for a caller that reads files one by one.
    """
    if notes is not None:
        notes.append(message)
    else:
        warnings.warn(message, GemvizWarning, stacklevel=3)


class NotFittedError(GemvizError):
    """Raised when a fitted estimator is used before ``fit``."""
