"""The convergence properties of tests/unit/index/test_convergence_properties.py on the OpenSearch
adapter (osmem-server on loopback): uploads, deletes and re-tags in any order and batching, each
example in an index of its own."""

from __future__ import annotations

import itertools
from contextlib import contextmanager

import pytest

from autotagger.index.opensearch import OpenSearchIndex
from tests.unit.index.test_convergence_properties import retags_converge

pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")]


def test_GIVEN_retags_among_uploads_and_deletes_WHEN_applied_in_any_order_THEN_opensearch_converges_alike(
        osmem_clone):
    client = OpenSearchIndex.from_url(osmem_clone.url).client
    names = itertools.count()

    @contextmanager
    def opensearch_index():
        yield OpenSearchIndex(client, f"convergence-{next(names)}", refresh=True)

    retags_converge(opensearch_index, 40)
