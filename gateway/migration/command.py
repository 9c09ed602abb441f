"""The ``migrate-from-primehub`` command: read, plan, report, and write only with ``--apply``.

Kubernetes is found as by every component (``--kubernetes-url``, ``--kubeconfig``, or the
in-cluster service account); Keycloak's client credentials come from the environment
(``MODEL_GATEWAY_KEYCLOAK_CLIENT_ID``, ``MODEL_GATEWAY_KEYCLOAK_CLIENT_SECRET``), never from
the command line, where other users could read them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping

import aiohttp

from gateway.kube.client import Kube
from gateway.kube.connecting import connected
from gateway.kube.errors import KubeError
from gateway.migration.applying import Keycloak, apply_plan, read_plan
from gateway.migration.keycloak import KeycloakError
from gateway.settings import SettingsError


def keycloak(args: argparse.Namespace, env: Mapping[str, str]) -> Keycloak | None:
    """The Keycloak to read groups from; ``SettingsError`` if credentials are missing."""
    if not args.keycloak_url:
        return None
    client_id = env.get("MODEL_GATEWAY_KEYCLOAK_CLIENT_ID", "")
    secret = env.get("MODEL_GATEWAY_KEYCLOAK_CLIENT_SECRET", "")
    if not client_id or not secret:
        raise SettingsError(["MODEL_GATEWAY_KEYCLOAK_CLIENT_ID and _CLIENT_SECRET: both are "
                             "needed with --keycloak-url"])
    return Keycloak(url=args.keycloak_url, realm=args.keycloak_realm, client_id=client_id,
                    client_secret=secret)


async def run(args: argparse.Namespace, *, keycloak: Keycloak | None) -> None:
    """Print the plan, one line per object, and write it with ``--apply``."""
    try:
        async with connected(url=args.kubernetes_url, kubeconfig=args.kubeconfig) as api, \
                aiohttp.ClientSession() as session:
            kube = Kube(api)
            planned = await read_plan(kube, session, namespace=args.namespace,
                                      keycloak=keycloak)
            if keycloak is None:
                print("groups: not migrated (no --keycloak-url)")
            for line in planned.report:
                print(line)
            if not args.apply:
                print("dry run: nothing was written; run again with --apply")
                return
            await apply_plan(kube, namespace=args.namespace, planned=planned,
                             say=lambda line: print(f"done: {line}"))
    except (KeycloakError, KubeError, aiohttp.ClientError) as error:
        print(f"model-gateway migrate-from-primehub: {error}", file=sys.stderr)
        raise SystemExit(1) from error
