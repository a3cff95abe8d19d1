"""Moves an OpenSearch index made from an older template to the current one, keeping every document.

The index name the adapters use (`image_insights`) becomes an alias of a versioned index
(`image_insights-v2`) built from the current template; aliases let one name switch indexes in one
atomic request (https://docs.opensearch.org/latest/im-plugin/index-alias/). Steps:

1. create the versioned index (kept if a former run made it);
2. copy every document, tombstones too, with the same ids while the indexer still writes to the old
   index (opensearch-py's `helpers.reindex`: scroll and bulk, so it runs against any endpoint);
3. block writes to the old index (the indexer's writes then fail and are retried: Kinesis and the
   local stream redeliver) and copy again what was indexed since the first copy began (by
   `indexed_at`, less a margin for clocks that disagree);
4. check that both indexes hold as many documents, then in one `_aliases` request point the name at
   the new index and delete the old one (`remove_index`), after which writes succeed again.

Every step is idempotent, so an interrupted run is finished by running it again; an index already on
the current template is left alone. The new index is only written by this copy until the swap, and
the old one only has newer states than any copy of it, so plain overwrites keep the sequencer rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from opensearchpy import OpenSearch, helpers
from opensearchpy.exceptions import NotFoundError

from autotagger.contracts import INDEX_NAME
from autotagger.domain.documents import format_time
from autotagger.errors import UserError
from autotagger.index.opensearch import install_template, load_template

CATCH_UP_MARGIN = timedelta(minutes=15)


@dataclass(frozen=True)
class ReindexResult:
    status: str  # "current": nothing to do; "moved": documents copied and the name switched
    index: str  # the index the name resolves to now
    documents: int = 0  # documents the new index holds after the move (tombstones too)
    previous: str | None = None  # the index that was replaced (and deleted)


def versioned_name(index_name: str, version: int) -> str:
    return f"{index_name}-v{version}"


def template_version(client: OpenSearch, concrete: str) -> int:
    """The template version an index was made from (indexes from version 1 did not record it)."""
    mapping = client.indices.get_mapping(index=concrete)[concrete]["mappings"]
    return int(mapping.get("_meta", {}).get("template_version", 1))


def resolve(client: OpenSearch, index_name: str) -> str:
    """The concrete index behind a name: the alias's only index, or the index of that name."""
    try:
        indexes = list(client.indices.get_alias(name=index_name))
    except NotFoundError:
        return index_name
    if len(indexes) != 1:
        raise UserError(f"alias {index_name} points at {len(indexes)} indexes ({', '.join(indexes)}); expected one")
    return indexes[0]


def reindex(client: OpenSearch, index_name: str = INDEX_NAME, *, margin: timedelta = CATCH_UP_MARGIN,
            progress: Callable[[str], None] = lambda message: None) -> ReindexResult:
    install_template(client, index_name)  # also creates the index (from the current template) if missing
    template = load_template(index_name)
    version = template["version"]
    source = resolve(client, index_name)
    if template_version(client, source) >= version:
        progress(f"{index_name} ({source}) is on template version {version}: nothing to do")
        return ReindexResult("current", source)
    target = versioned_name(index_name, version)
    if target == source:
        raise UserError(f"{source} is named for template version {version} but was not made from it")
    if not client.indices.exists(index=target):
        client.indices.create(index=target, body=template["template"])
        progress(f"created {target}")
    started = datetime.now(UTC)
    copied = _copy(client, source, target)
    progress(f"copied {copied} documents from {source} to {target}")
    client.indices.put_settings(index=source, body={"index.blocks.write": True})
    progress(f"blocked writes to {source} (the indexer retries them) to copy what changed meanwhile")
    since = format_time(started - margin)
    caught_up = _copy(client, source, target, {"query": {"range": {"indexed_at": {"gte": since}}}})
    progress(f"copied {caught_up} documents indexed since {since}")
    client.indices.refresh(index=[source, target])
    counts = {name: client.count(index=name)["count"] for name in (source, target)}
    if counts[source] != counts[target]:
        raise UserError(f"{target} holds {counts[target]} documents, {source} {counts[source]}: run reindex again "
                        f"(writes to {source} stay blocked until it succeeds)")
    # Deleting the old index drops its aliases too; a concrete index of the alias's name must go in
    # the same request, as an alias cannot share a name with an index.
    client.indices.update_aliases(body={"actions": [{"add": {"index": target, "alias": index_name}},
                                                    {"remove_index": {"index": source}}]})
    progress(f"{index_name} now names {target} ({counts[target]} documents); deleted {source}")
    return ReindexResult("moved", target, counts[target], source)


def _copy(client: OpenSearch, source: str, target: str, query: dict | None = None) -> int:
    """Copies the documents matching `query` (all by default) with their ids; returns how many."""
    written, errors = helpers.reindex(client, source, target, query=query, chunk_size=500,
                                      bulk_kwargs={"max_retries": 3, "raise_on_error": False})
    if errors:
        raise UserError(f"copying {source} to {target} failed for {len(errors)} documents, e.g. {errors[0]}: "
                        "run reindex again")
    return written
