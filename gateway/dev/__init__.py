"""Dev mode: the whole product on one machine (local cluster, Redis, API, controller, proxy)."""
