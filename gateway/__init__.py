"""model-gateway's control plane: settings, Kubernetes access, API server, controller, dev mode."""
