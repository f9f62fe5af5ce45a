"""Play one: the head-to-head trial that proves value, or honestly does not.

Each module has one job; import from them:

* ``prove`` — the command: run a trial, record its ``trial.verdict``, write the report, and
  the honest stop (``prove_trial``);
* ``rerun`` — ``prove NAME --rerun``: someone else reruns a proven trial head to head from
  their own machine and records ``trial.rerun``, which play 2's ``trial-reproduced`` compares
  with the verdict (``rerun_trial``);
* ``headtohead`` — one trial run and decided, step by step; ``plan`` — a trial's files read and
  checked before anything is sent;
* ``sides`` and ``statusquo`` — the two sides as strategies: the candidate, and one per kind
  of status quo (an API, the manual process);
* ``cost``, ``privacy``, ``verdict`` (on ``bootstrap``) — what each side costs, where its data
  went, and the verdict with intervals;
* ``reportdata`` (the typed report data) and ``report`` (the HTML and its JSON twin);
* ``spec`` — ``trials/NAME.yaml``;
* the load generator: ``load`` (``target``, ``modes``, ``_sse``, ``_http``), ``metrics``, and
  ``bench``, the serving benchmark's rules.
"""

__all__: list[str] = []
