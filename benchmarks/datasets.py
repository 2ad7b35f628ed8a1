"""What datasets cost in memory: a dataset's scene -> data mapping from ``/dataset/status`` to a
mapping file, for a small and a huge mapping, and a ~90 MB zip upload, each against a baseline.

    python -m benchmarks.datasets [--small 10000] [--large 1000000] [--upload-mb 90]

The emulator runs in this process; each client runs in a fresh child process, which reports its
wall time and peak RSS: the baseline reads a 3-scene dataset's status; the mapping cases do what
`ImportDatasetOperator(scene_ids_to=...)` does after the wait (status read, mapping checked and
written as JSON Lines); the upload sends a zip through `AnnotationHook.upload_dataset`. Flat memory
means the peak barely moves from the baseline. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks._common import (
    ACCESS_KEY,
    SECRET_KEY,
    command_line,
    machine_notes,
    markdown_table,
    print_section,
    quiet_airflow_logs,
    set_connection,
)


def _hook(url: str) -> Any:
    from airflow_provider_annotation.hooks.annotation import AnnotationHook

    # The answer to a million-scene status read is ~60 MB: give the attempt time to arrive.
    extra = {"timeout": {"connect": 10, "read": 300, "total": 600}}
    set_connection(
        "annotation_default", "annotation", host=url, login=ACCESS_KEY, password=SECRET_KEY, extra=extra
    )
    quiet_airflow_logs("INFO")
    return AnnotationHook()


def mapping_to_file(url: str, dataset_id: str, dest: str) -> int:
    """The status read and the mapping file, as the operator writes it after the wait."""
    from airflow_provider_annotation.operators.datasets import storage_path

    with _hook(url) as hook:
        state = hook.get_dataset_status(dataset_id)
    with state.mapping as mapping, storage_path(dest).open("wb") as out:
        mapping.copy_to(out)
        return len(mapping)


def upload(url: str, path: str, dest: str) -> int:
    with _hook(url) as hook:
        hook.upload_dataset(path, name="bench upload", data_type=3)
    return os.path.getsize(path)


def child(kind: str, url: str, arg: str, dest: str) -> None:
    started = time.perf_counter()
    count = mapping_to_file(url, arg, dest) if kind == "mapping" else upload(url, arg, dest)
    elapsed = time.perf_counter() - started
    print(json.dumps({"count": count, "s": elapsed, "peak_mib": peak_rss_kib() / 1024}))


def peak_rss_kib() -> int:
    """This process's own peak RSS: VmHWM of its memory map. Not ``ru_maxrss``: Linux carries the
    parent's peak across fork and exec into it, so a child started by a big parent reports the
    parent's size (the emulator here holds a million-scene answer and a 90 MB upload)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run_child(kind: str, url: str, arg: str, dest: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.datasets", "--child", kind, url, arg, dest],
        capture_output=True,
        text=True,
        check=False,
        env=dict(os.environ),
    )
    if done.returncode != 0:
        raise RuntimeError(f"{kind} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def make_zip(path: Path, megabytes: int) -> None:
    """A stored (uncompressed) zip of random bytes, `megabytes` MB in all."""
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive,
        archive.open("top/lidar-l0/scene-0000001/0.pcd", "w", force_zip64=True) as member,
    ):
        for _ in range(megabytes):
            member.write(os.urandom(1_000_000))


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.datasets", description=__doc__.split("\n")[0])
    parser.add_argument("--small", type=int, default=10_000, help="scenes in the small mapping")
    parser.add_argument("--large", type=int, default=1_000_000, help="scenes in the large mapping")
    parser.add_argument("--upload-mb", type=int, default=90, help="size of the uploaded zip, in MB")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        child(*args.child)
        return 0
    from airflow_provider_annotation.testing import Emulator

    rows = []
    with (
        tempfile.TemporaryDirectory() as folder,
        Emulator(access_key=ACCESS_KEY, secret_key=SECRET_KEY) as emu,
    ):
        settings = emu.state.settings
        for label, scenes in (("baseline (3 scenes)", 3), ("small", args.small), ("large", args.large)):
            settings.dataset_scenes = scenes
            dataset_id = emu.state.add_dataset(
                {"status": 2, "finalStatus": 2, "readsLeft": 0, "scenes": scenes, "name": label}
            )
            dest = Path(folder) / f"{scenes}.jsonl"
            got = run_child("mapping", emu.url, dataset_id, str(dest))
            lines = sum(1 for _ in dest.open("rb"))
            if lines != scenes or got["count"] != scenes:
                raise RuntimeError(f"{label}: {lines} lines written for {scenes} scenes")
            rows.append(
                [
                    f"mapping to file, {label}",
                    f"{scenes:,} scenes",
                    f"{dest.stat().st_size / 2**20:.1f} MiB",
                    f"{got['s']:.2f} s",
                    f"{got['peak_mib']:.0f} MiB",
                ]
            )
            emu.reset()
        archive = Path(folder) / "upload.zip"
        make_zip(archive, args.upload_mb)
        got = run_child("upload", emu.url, str(archive), "-")
        (record,) = emu.datasets.values()
        if record["uploadSize"] != archive.stat().st_size:
            raise RuntimeError("the emulator received another size than the file's")
        emu.reset()
        rows.append(
            [
                "upload (multipart, streamed)",
                f"{archive.stat().st_size / 1e6:.0f} MB zip",
                "-",
                f"{got['s']:.2f} s",
                f"{got['peak_mib']:.0f} MiB",
            ]
        )
    print_section(
        "Datasets: peak RSS of the client process (the emulator runs in another process)",
        markdown_table(["case", "size", "mapping file", "wall time", "peak RSS"], rows),
    )
    print_section("Machine", markdown_table(["", ""], machine_notes()))
    print(f"\n`{command_line()}`", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
