"""`AnnotationAsyncHook`, importable from here as in 0.2.0's first cut.

The awaited reads now live on `AnnotationHook` as ``a_*`` methods (`a_get_task`,
`a_list_project_tasks`, `a_iter_project_tasks`, `a_get_send_status`, `a_get_dataset_status`,
`a_call`), over the same call pipeline as the sync methods (`hooks.pipeline`) with an `httpx` adapter
(`hooks.async_transport`). `AnnotationAsyncHook` is that hook under the old method names. Reads
only: a trigger may be run twice after a triggerer restart, so it must never create anything.
"""

from __future__ import annotations

from airflow_provider_annotation.hooks.annotation import AnnotationAsyncHook

__all__ = ["AnnotationAsyncHook"]
