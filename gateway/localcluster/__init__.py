"""An in-memory Kubernetes API server with simulated workloads, for tests and dev mode.

It speaks kube-apiserver's wire protocol, so the real kubernetes-asyncio client and kubectl
work against it; it is never a production engine (production is a real cluster).
"""

from gateway.localcluster.cluster import LocalCluster, LocalClusterSettings

__all__ = ["LocalCluster", "LocalClusterSettings"]
