"""Runs when `annotation_pipeline` lands an export: reads each exported file named in the asset
events' extra and logs how many annotation results it holds.

Several exports may land before this DAG runs (the scheduler queues their events into one run):
every one of them is read, none skipped. Run by hand, it reads the latest export."""

from __future__ import annotations

import pendulum
from airflow.providers.common.compat.sdk import Asset, ObjectStoragePath, dag, task

#: The asset `annotation_pipeline`'s export updates (the same name there).
ANNOTATION_EXPORT = Asset("annotation-export")


@dag(
    schedule=[ANNOTATION_EXPORT],
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    description="Counts the annotation results in each export annotation_pipeline lands (asset-scheduled)",
    doc_md=__doc__,
    tags=["annotation", "example"],
)
def annotation_export_consumer():
    # [START howto_export_consumer]
    @task(inlets=[ANNOTATION_EXPORT])
    def count_results(triggering_asset_events=None, inlet_events=None) -> int:
        # The events that started this run (one per export landed since the last run); run by hand,
        # the latest export. (The accessor looks the asset up itself: an Asset is not hashable
        # before Airflow 3.2, so never key a dict by it.)
        triggered = triggering_asset_events.get(ANNOTATION_EXPORT) if triggering_asset_events else None
        if triggered:
            events = list(triggered)
        else:
            recorded = inlet_events[ANNOTATION_EXPORT]
            events = [recorded[-1]] if len(recorded) else []
        if not events:  # run by hand before any export landed
            print("No export has landed on the asset yet: nothing to count")
            return 0
        total = 0
        for event in events:
            count = 0
            with ObjectStoragePath(event.extra["uri"]).open("rb") as export:
                while chunk := export.read(1 << 20):  # one result per line, each ending in a newline
                    count += chunk.count(b"\n")
            uri, announced = event.extra["uri"], event.extra["count"]
            print(f"Export {uri} holds {count} annotation results (its event says {announced})")
            total += count
        print(f"{len(events)} export(s) read, {total} annotation results in all")
        return total

    count_results()
    # [END howto_export_consumer]


annotation_export_consumer()
