"""Play one: the head-to-head trial that proves value, or honestly does not.

The load generator and serving metrics (``load``, ``metrics``), the trial spec, cost model,
privacy accounting, verdict and reports each live in their own module; import from those.
"""

__all__: list[str] = []
