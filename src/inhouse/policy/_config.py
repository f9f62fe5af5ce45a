"""One way to turn a pydantic validation error into a message that names the TOML field."""

from __future__ import annotations

from pydantic import ValidationError

from inhouse.errors import validation_problem_list

__all__ = ["problems"]


def problems(err: ValidationError, where: str) -> str:
    """``where.field.sub: message; …`` for every error in ``err``."""
    found = []
    for problem in validation_problem_list(err):
        field = ".".join(filter(None, [where, problem.field]))
        hint = ""
        if problem.kind == "extra_forbidden" and isinstance(problem.input, dict):
            # [data_rules.models.llama-3.2-3b] is three nested tables in TOML
            hint = ' (a name with dots must be quoted, e.g. [data_rules.models."llama-3.2-3b"])'
        found.append(f"{field}: {problem.message}{hint}")
    return "; ".join(found)
