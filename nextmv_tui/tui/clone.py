"""Clone a run into a submit form: its input (in a temporary file) and its options, class,
priority, instance, name and description, for editing before it is sent again.

Like the official CLI's ``run clone``: read the run's information, then its input (inline
JSON streamed to a file, or downloaded through ``format=url`` for large and file-based
inputs, with bounded memory), and send it with ``tracking.cloned_run_id``. Options come from
``metadata.options`` (what the run asked for; the summary when that is all there is).
"""

from __future__ import annotations

import asyncio
import shutil
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING

from nextmv_tui.cloud.errors import NextmvError
from nextmv_tui.tui.forms import SubmitForm

if TYPE_CHECKING:
    from nextmv_tui.cloud.client import NextmvClient
    from nextmv_tui.cloud.models import RunInformation

COPY_CHUNK = 256 * 1024


def options_text(info: RunInformation) -> str:
    """The run's requested options as ``key=value`` pairs, in order."""
    options = info.metadata.options
    if options is None:
        return ""
    values: dict[str, object] = dict(options.request_options or {})
    if not values and options.options_summary:
        values = {item.name: item.value for item in options.options_summary}
    return ", ".join(f"{name}={value}" for name, value in values.items())


def form_from(info: RunInformation, path: Path, start_dir: str = ".") -> SubmitForm:
    meta = info.metadata
    priority = meta.queuing_priority or 6
    return SubmitForm(
        path=str(path),
        app_id=meta.application_id,
        instance_id=meta.application_instance_id,
        name=info.name,
        description=info.description,
        options=options_text(info),
        execution_class=meta.execution_class or "",
        priority=priority if 1 <= priority <= 9 else 6,
        queuing=not bool(meta.queuing_disabled),
        start_dir=start_dir,
        cloned_from=info.id,
    )


def _untar_text(archive: Path, target: Path) -> Path:
    """A large text input downloaded as a one-file tar.gz, back to the text it was."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            files = [m for m in tar.getmembers() if m.isfile()]
            source = tar.extractfile(files[0]) if len(files) == 1 else None
            if source is None:
                return archive
            with source, target.open("wb") as out:
                shutil.copyfileobj(source, out, COPY_CHUNK)
    except (OSError, tarfile.TarError) as exc:
        raise NextmvError(f"input of the run could not be unpacked: {exc}") from None
    archive.unlink(missing_ok=True)
    return target


async def clone_form(
    client: NextmvClient, app_id: str, run_id: str, work_dir: Path, start_dir: str = "."
) -> SubmitForm:
    """The form that resubmits ``run_id``; its input is written into ``work_dir``."""
    info = await client.run_information(app_id, run_id)
    path, kind = await client.save_input(app_id, run_id, work_dir)
    if kind == "text" and path.suffix == ".gz":
        path = await asyncio.to_thread(_untar_text, path, work_dir / f"{run_id}-input.txt")
    return form_from(info, path, start_dir)
