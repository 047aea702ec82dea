"""Log lines that input cannot forge: control characters in messages are escaped.

Values from input (file names, titles, URLs, upstream errors) end up in log messages; a
newline in one would start a line that looks like syndicate wrote it. The filter escapes
every control character of the formatted message; tracebacks keep their line breaks.
"""

from __future__ import annotations

import logging

from syndicate.content.text import escape_controls


class EscapeControls(logging.Filter):
    """Rewrites each record's message with its control characters escaped."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        escaped = escape_controls(message)
        if escaped != message or record.args:
            record.msg, record.args = escaped, None
        return True


def install(logger: logging.Logger | None = None) -> None:
    """Add the filter to every handler of *logger* (default: the root logger), once."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, EscapeControls) for f in handler.filters):
            handler.addFilter(EscapeControls())
