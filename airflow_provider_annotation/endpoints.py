"""Endpoint paths and body keys of the platform's API generation this provider speaks.

One place each, because the platform's later docs renamed them (``/workflow/create``, ``vertex``
instead of ``pools``): moving to that version is a change here, not a hunt through the code.
"""

from __future__ import annotations

#: Create Workflow (the seed): body ``{"projectId": ..., "workflow": {WORKFLOW_POOLS_KEY: [...]}}``.
CREATE_WORKFLOW = "/annotation/workflow/create"
#: Project list: the cheap, read-only call used to test a connection.
PROJECT_LIST = "/project/list"
#: One project's info, by ``?projectId=``: the API's GET endpoint.
PROJECT_GET = "/project/get"

#: The key under ``workflow`` holding the list of pools.
WORKFLOW_POOLS_KEY = "pools"
