"""The built-in checks behind the six plays' triggers and exits, one module per play.

Each reads facts only (see ``reads=``) and only the facts that count (:mod:`..counting`); the
reason of a failing check names the evidence that is missing and, where one exists, the command
that gathers it.
"""

from inhouse.program.playchecks import baseline, measure, pilot, prove, support, workflow

__all__ = ["baseline", "measure", "pilot", "prove", "support", "workflow"]
