"""Text from elsewhere, made safe to show in a terminal.

What a server answers (a dashboard's error, a gateway's health, an identity provider's claims, a
ticket system's fields) reaches the person's terminal. Written as it came, an escape sequence in
it moves the cursor, clears the screen or repaints what was shown (a fake prompt, a line
hidden), and a bidirectional override reorders it. :func:`shown` writes every such character
out as its code instead, so the text shows as exactly what it is. The CLI's consoles pass every
string they print through it (:mod:`inhouse.cli._common`); Rich markup in such text is
escaped where it is printed (``literal`` there).

A server's log is read in a terminal too, and text a client controls reaches it (a path, a
header, a model's name, an exception quoting them): a line break in it forges a log line of its
own, an escape sequence hides one. :func:`clean_handlers` puts :func:`shown` on every handler a
server writes its log with, so every record passes it whichever logger made it (a module's
child logger, ``asyncio``, uvicorn's); :func:`clean_logs` puts it on named loggers too, for
whoever embeds the gateway or the dashboard under handlers of their own.
"""

from __future__ import annotations

import logging
import unicodedata
from typing import Any

__all__ = ["clean_handlers", "clean_logs", "shown"]

#: control (C0, DEL, C1), format (bidirectional overrides, zero-width joiners) and line or
#: paragraph separators: none prints as itself
_HIDDEN = ("Cc", "Cf", "Zl", "Zp")


def shown(value: Any, *, lines: bool = False) -> str:
    """``value`` as text a terminal shows as it is: every control or format character
    written out as its code (``\\u001b``); with ``lines``, newlines and tabs stay (text the
    program wrote itself, over several lines)."""
    text = str(value)
    kept = "\n\t" if lines else ""
    if text.isprintable() or all(c in kept or c.isprintable() for c in text):
        return text  # the usual case, at every line the CLI prints
    return "".join(
        f"\\u{ord(c):04x}" if c not in kept and unicodedata.category(c) in _HIDDEN else c
        for c in text
    )


class _Shown(logging.Filter):
    """Every record of a logger as :func:`shown` text: the message on one line, a traceback's
    lines indented (a line break in an exception's text cannot start a record of its own)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            # a message its arguments do not fit: left to the handler, which reports it as
            # logging does ("--- Logging error ---"), rather than raised at the call site (a
            # log line in an error path would replace the error being handled)
            return True
        cleaned = shown(message)
        if cleaned != message:
            _clean_record(record, cleaned)
        if record.exc_info and not record.exc_text:
            trace = logging.Formatter().formatException(record.exc_info)
            record.exc_text = "\n".join("  " + shown(line) for line in trace.splitlines())
        return True


def _clean_record(record: logging.LogRecord, cleaned: str) -> None:
    """``record`` made to print ``cleaned``: its text arguments cleaned where that is enough,
    so a formatter that reads them (uvicorn's access lines unpack ``args``) still finds them;
    else the cleaned message itself, with no arguments."""
    args = record.args
    if isinstance(args, tuple) and isinstance(record.msg, str):
        record.msg = shown(record.msg)
        record.args = tuple(shown(a) if isinstance(a, str) else a for a in args)
        try:
            message = record.getMessage()
        except Exception:
            message = ""
        if message and shown(message) == message:
            return
    record.msg, record.args = cleaned, None


_SHOWN = _Shown()


def clean_logs(*names: str) -> None:
    """Pass every record of the loggers ``names`` through :func:`shown` before any handler
    writes it (once per logger, however often it is asked)."""
    for name in names:
        logger = logging.getLogger(name)
        if _SHOWN not in logger.filters:
            logger.addFilter(_SHOWN)


def clean_handlers() -> None:
    """Pass every record a server writes through :func:`shown`, at the handlers: a logger's
    filter sees only the records made on it, never a child's (``inhouse.gateway.edge``) nor
    another library's (``asyncio``), which reach the same handlers by propagating. The root
    logger gets a handler where it has none, writing what logging's last resort wrote (to
    stderr, from warnings up): a record with no handler on its way went there, where no
    filter can be set. Every handler installed by then (root's, uvicorn's) gets the filter.
    A server calls it once it has set up its loggers; asking again changes nothing."""
    root = logging.getLogger()
    if not root.handlers:
        last = logging.StreamHandler()
        last.setLevel(logging.WARNING)
        root.addHandler(last)
    loggers = [root, *list(logging.Logger.manager.loggerDict.values())]
    for logger in loggers:
        for handler in getattr(logger, "handlers", ()):  # a placeholder has none
            if _SHOWN not in handler.filters:
                handler.addFilter(_SHOWN)
