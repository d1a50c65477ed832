"""Which operations of Freeplay's published document this service implements: the Test Runs,
Prompt Datasets and Agent Datasets tags, and the project routes of the Configuration tag."""

from tests.freeplay_spec import Operation, operations

TAGS = ("Test Runs", "Prompt Datasets", "Agent Datasets")
PROJECT_PATHS = ("/api/v2/projects", "/api/v2/projects/all", "/api/v2/projects/{project_id}")


def in_scope() -> list[Operation]:
    projects = [op for op in operations("Configuration") if op.path in PROJECT_PATHS]
    return operations(*TAGS) + projects
