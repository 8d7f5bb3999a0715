"""`get_prompt`: a prompt version for an application, from the store or from a bundle.

From a bundle (`bundle=FILE`, or `$PROMPTYARD_BUNDLE` when no workspace is given) it reads
one JSON file and never imports git. From the store it caches per process: an entry lives
`cache_ttl` seconds (default 60, `$PROMPTYARD_PROMPT_TTL`; 0 turns it off), and dies sooner
when the prompt file, `labels.jsonl` or git's index changes or a save in this process
forgets it. With `fallback=`, a store or bundle that cannot be read logs a warning and
yields the fallback.
"""

from __future__ import annotations

import copy
import logging
from functools import lru_cache
from pathlib import Path

from promptyard.errors import NotFoundError, PromptyardError
from promptyard.prompts.bundle import bundle_from_env, load_bundle
from promptyard.prompts.cache import cache_ttl as ttl_of
from promptyard.prompts.cache import cached, file_signature, remember
from promptyard.prompts.format import parse_prompt
from promptyard.prompts.paths import parse_in, prompt_path
from promptyard.prompts.template import PromptTemplate
from promptyard.workspace import Workspace, current_workspace

logger = logging.getLogger("promptyard.prompts")


def get_prompt(
    name: str,
    ref: str | None = None,
    *,
    label: str | None = None,
    version: int | str | None = None,
    workspace: Workspace | None = None,
    bundle: str | Path | None = None,
    fallback: str | PromptTemplate | None = None,
    cache_ttl: float | None = None,
) -> PromptTemplate:
    """The prompt `name` at `label`, at `version` (N, vN, a sha prefix) or at `ref` (either);
    with none of them, the file as it is in the workspace (the newest version in a bundle).

    `.version` is the version it was read at: the store's `Version`, or a `PinnedVersion`
    (same fields) from a bundle or a shallow clone, whose `number` is None when unknown;
    None for a working-tree file with unsaved edits. `.label` is the label it was loaded by.
    `fallback` (a template text or a `PromptTemplate`) is returned, with a warning logged,
    when the store or bundle cannot be read; without it the error is raised.
    """
    given = [x for x in (ref, label, version) if x is not None]
    if len(given) > 1:
        raise PromptyardError(
            f"get_prompt({name!r}): give one of ref, label and version, not {len(given)}"
        )
    ttl = ttl_of(cache_ttl)
    chosen = label if label is not None else ref if ref is not None else version
    file = Path(bundle) if bundle is not None else bundle_from_env() if workspace is None else None
    try:
        if file is not None:
            loaded = load_bundle(file)
            if label is None and ref is not None and _is_label(loaded.prompts, name, ref):
                return loaded.get_prompt(name, label=ref)
            return loaded.get_prompt(name, label=label, version=ref if ref is not None else version)
        return _from_store(name, None if chosen is None else str(chosen), label, workspace, ttl)
    except (PromptyardError, OSError) as exc:
        if fallback is None:
            raise
        logger.warning("get_prompt(%r): using the fallback, because %s", name, exc)
        return _fallback(name, fallback)


def _is_label(entries: object, name: str, ref: str) -> bool:
    return any(p.name == name and ref in p.version.labels for p in entries)  # type: ignore[attr-defined]


def _fallback(name: str, fallback: str | PromptTemplate) -> PromptTemplate:
    if isinstance(fallback, PromptTemplate):
        return copy.copy(fallback)
    return parse_prompt(fallback, name, source=f"the fallback of {name}")


def _from_store(
    name: str, chosen: str | None, label: str | None, workspace: Workspace | None, ttl: float
) -> PromptTemplate:
    ws = workspace or current_workspace()
    path = prompt_path(name)
    # stat before reading: a change during the read then shows at the next call; git's
    # index changes with every commit, so another process's save is seen too
    signature = file_signature(ws.root / path, ws.labels_file, _git_index(ws.root))
    key = (str(ws.root), name, chosen, label is not None)
    hit = cached(key, signature, ttl)
    if hit is not None:
        return hit
    template = _read_store(ws, name, path, chosen, label)
    remember(key, signature, ttl, template)
    return template


@lru_cache(maxsize=64)
def _git_index(root: Path) -> Path:
    """The index file of the repository holding `root` (`.git/index` of the nearest `.git`)."""
    from promptyard.versioning.git_files import git_dir_of  # not for a prompt from a bundle

    git_dir = git_dir_of(root)
    # none yet: a missing file, which a later init changes
    return (git_dir or root / ".git") / "index"


def _read_store(
    ws: Workspace, name: str, path: str, chosen: str | None, label: str | None
) -> PromptTemplate:
    from promptyard.prompts.shallow import is_shallow, read_shallow
    from promptyard.versioning import Store  # the store is imported on this path only

    store = Store(ws)
    if is_shallow(store):
        return read_shallow(store, ws, name, path, chosen, label)
    if chosen is not None:
        version = store.resolve(path, chosen)
        template = parse_in(store.read_version(version), name, ws, f"{path}@{version.tag}")
        template.version = version
        if label is not None or chosen in version.labels:
            template.label = chosen
        return template
    if not store.abs_path(path).is_file():
        if store.history(path):
            raise NotFoundError(f"prompt {name!r} was deleted; show an old version with {name}@vN")
        raise NotFoundError(f"no prompt named {name!r} in {ws.prompts_dir}")
    text = store.read(path)
    template = parse_in(text, name, ws, path)
    versions = store.history(path)
    if versions and not versions[-1].deleted and store.read_version(versions[-1]) == text:
        template.version = versions[-1]
    return template
