"""Django's SQLite backend (ENGINE "onewindow.core.sqlite"), with one change: the conversion of a
statement's "%s" placeholders to SQLite's "?" (a regular-expression pass over the whole text on
every execution) is remembered per statement text. A case transition runs the same few dozen
statements over and over; the conversion was a few percent of its time."""

from __future__ import annotations

from typing import Any

from django.db.backends.sqlite3 import base

_MAX = 4096
_qmark: dict[str, str] = {}


class SQLiteCursorWrapper(base.SQLiteCursorWrapper):
    def convert_query(self, query: str, *, param_names: Any = None) -> str:
        if param_names is not None:
            return super().convert_query(query, param_names=param_names)
        converted = _qmark.get(query)
        if converted is None:
            converted = super().convert_query(query)
            if len(_qmark) >= _MAX:  # statements with literals or long IN lists: start over
                _qmark.clear()
            _qmark[query] = converted
        return converted


class DatabaseWrapper(base.DatabaseWrapper):
    def create_cursor(self, name: str | None = None) -> Any:
        return self.connection.cursor(factory=SQLiteCursorWrapper)
