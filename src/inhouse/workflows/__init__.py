"""Play three, the repeatable workflow: a spec (``workflows/NAME.yaml``: a sandboxed prompt
template with typed variables, a blessed model, generation parameters and test cases with
checks from :mod:`inhouse.checks`), a runner that refuses a drifted model, test runs recorded as
facts, and an importer for promptfoo configs.
"""

from inhouse.workflows.promptfoo import ImportResult, import_promptfoo, write_imported
from inhouse.workflows.report import Attempt, CaseReport, ExitCheck, RunReport
from inhouse.workflows.runner import (
    COLLECTOR,
    RUN_BY_OTHER,
    WORKFLOW_HEADER,
    GatewayAccess,
    Generation,
    Pinned,
    name_task,
    pinned_runtime,
    record_test_facts,
    run_cases,
    run_workflow,
    run_workflow_tests,
)
from inhouse.workflows.spec import (
    WORKFLOWS_DIR,
    Case,
    Workflow,
    WorkflowSpec,
    list_workflows,
    load_workflow,
    parse_workflow,
    workflow_path,
    workflow_summaries,
)

__all__ = [
    "COLLECTOR",
    "RUN_BY_OTHER",
    "WORKFLOWS_DIR",
    "WORKFLOW_HEADER",
    "Attempt",
    "Case",
    "CaseReport",
    "ExitCheck",
    "GatewayAccess",
    "Generation",
    "ImportResult",
    "Pinned",
    "RunReport",
    "Workflow",
    "WorkflowSpec",
    "import_promptfoo",
    "list_workflows",
    "load_workflow",
    "name_task",
    "parse_workflow",
    "pinned_runtime",
    "record_test_facts",
    "run_cases",
    "run_workflow",
    "run_workflow_tests",
    "workflow_path",
    "workflow_summaries",
    "write_imported",
]
