"""The real Kubernetes control plane of the test suite, and the product tier that runs on it."""
