"""Image references are resolved as a container runtime does, and catalog entries without a
tag allow every tag of their repository."""

from __future__ import annotations

import pytest

from gateway.localcluster.images import ImageCatalog, Reference, parse
from gateway.localcluster.scheduling import requests


@pytest.mark.parametrize(("text", "resolved"), [
    ("nginx", "docker.io/library/nginx:latest"),
    ("infuseai/sklearn-prepackaged:v0.1.0", "docker.io/infuseai/sklearn-prepackaged:v0.1.0"),
    ("docker.io/infuseai/sklearn-prepackaged:v0.1.0",
     "docker.io/infuseai/sklearn-prepackaged:v0.1.0"),
    ("localhost:5000/team/model", "localhost:5000/team/model:latest"),
    ("ghcr.io/a/b@sha256:" + "a" * 64, "ghcr.io/a/b@sha256:" + "a" * 64),
])
def test_references_resolve_like_a_runtime(text: str, resolved: str) -> None:
    """Default registry, library/ and :latest are filled in; hosts and digests are kept."""
    assert str(parse(text)) == resolved


@pytest.mark.parametrize("text", ["", "UPPER/case", "a b", "nginx:", "nginx@sha256:xyz",
                                  "-lead", "a//b", "nginx:tag\n"])
def test_malformed_references_are_refused(text: str) -> None:
    """Anything a runtime cannot parse is not a reference."""
    assert parse(text) is None


def test_entries_without_a_tag_allow_every_tag() -> None:
    """``nginx`` allows nginx:1.27 and nginx (latest); ``team/model:1`` allows only :1."""
    catalog = ImageCatalog(images=frozenset({"nginx", "team/model:1"}))
    assert parse("nginx", default_tag=None) == Reference("docker.io/library/nginx", None)
    assert catalog.pull("nginx:1.27") is None
    assert catalog.pull("docker.io/library/nginx") is None
    assert catalog.pull("team/model:1") is None
    refused = catalog.pull("team/model:2")
    assert refused is not None
    assert (refused.reason, refused.retried) == ("ErrImagePull", True)


def test_gpu_requests_count_containers_and_the_largest_init_container() -> None:
    """Containers add up; an init container counts only if it asks for more; limits stand in
    for missing requests; CPU and memory are not extended resources."""
    pod = {"spec": {
        "containers": [{"resources": {"limits": {"nvidia.com/gpu": "1", "cpu": "2"}}},
                       {"resources": {"requests": {"nvidia.com/gpu": 1}}}],
        "initContainers": [{"resources": {"limits": {"nvidia.com/gpu": "3"}}}]}}
    assert requests(pod) == {"nvidia.com/gpu": 3}
    assert requests({"spec": {"containers": [{"resources": {"limits": {"cpu": "1"}}}]}}) == {}
