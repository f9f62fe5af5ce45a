"""The cyclic garbage collector's pace, set for how long the process lives.

A command lives a second: it imports a few hundred modules and builds tens of thousands of
objects, almost none of them garbage. At the collector's default pace (a young collection every
700 new objects) ``inhouse indicators report`` spent ~80 ms in 200 collections, measured with
``gc.callbacks``; at the pace below, ~30 ms in two. A server lives for days and answers
requests with steady latency: it goes back to the default pace, and freezes what start-up built
so no collection walks it again (what the trials' load client does too).
"""

from __future__ import annotations

import gc

__all__ = ["for_a_command", "for_a_server"]

#: the interpreter's own pace, read before anything changes it
_DEFAULT = gc.get_threshold()
#: a young collection every 50,000 new objects: a couple in a whole command
_COMMAND = (50_000, 20, 20)


def for_a_command() -> None:
    gc.set_threshold(*_COMMAND)


def for_a_server() -> None:
    """Call once start-up is done, before serving."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*_DEFAULT)
