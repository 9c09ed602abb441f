"""Typed kubernetes-asyncio API groups bound to the suite's ``kube`` client.

The ``cluster`` and ``kube`` fixtures come from ``tests/conftest.py``: a fresh in-process local
cluster per test, so no test sees another's objects.
"""

from __future__ import annotations

import pytest
from kubernetes_asyncio.client import (
    ApiClient,
    ApiextensionsV1Api,
    AppsV1Api,
    CoordinationV1Api,
    CoreV1Api,
    CustomObjectsApi,
)


@pytest.fixture
def core(kube: ApiClient) -> CoreV1Api:
    """core/v1."""
    return CoreV1Api(kube)


@pytest.fixture
def apps(kube: ApiClient) -> AppsV1Api:
    """apps/v1."""
    return AppsV1Api(kube)


@pytest.fixture
def custom(kube: ApiClient) -> CustomObjectsApi:
    """Custom resources served for CustomResourceDefinitions."""
    return CustomObjectsApi(kube)


@pytest.fixture
def extensions(kube: ApiClient) -> ApiextensionsV1Api:
    """apiextensions.k8s.io/v1."""
    return ApiextensionsV1Api(kube)


@pytest.fixture
def coordination(kube: ApiClient) -> CoordinationV1Api:
    """coordination.k8s.io/v1."""
    return CoordinationV1Api(kube)
