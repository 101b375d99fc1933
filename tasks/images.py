"""Custom-image tasks."""

from __future__ import annotations

from collections.abc import Sequence

from prefect import task

from tasks._options import API_TASK
from tasks.connection import BarrackConnection, borrow_client

__all__ = ["snapshots_backing_images"]


@task(name="snapshots-backing-images", **API_TASK)
async def snapshots_backing_images(
    connection: BarrackConnection, snapshot_ids: Sequence[str]
) -> set[str]:
    """Which of these snapshots back a custom image, asked in batches of 100 (one call each).

    The retention planner never deletes such a snapshot; asking right before deleting
    covers an image made after the snapshot list was read.
    """
    client = await borrow_client(connection)
    backing: set[str] = set()
    ids = list(dict.fromkeys(snapshot_ids))
    for start in range(0, len(ids), 100):
        for relation in await client.snapshots.image_relationships(ids[start : start + 100]):
            if relation.has_image or relation.image_ids:
                backing.add(relation.snapshot_id)
    return backing
