"""What a statement the executor runs can fail with: the database's refusal, a timeout, a cancel."""

from __future__ import annotations


class QueryError(RuntimeError):
    """The database refused or failed the statement; the message is the database's reason."""


class QueryTimeout(QueryError):
    """The statement ran past the timeout and was cancelled."""


class QueryCancelled(QueryError):
    """The statement was cancelled by `Executor.cancel()`."""
