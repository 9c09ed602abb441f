"""The ``migrate-from-primehub`` command line: only argparse here, so the CLI can offer the
command without loading the migration (see :mod:`gateway.migration.command`)."""

from __future__ import annotations

import argparse


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser],
               common: argparse.ArgumentParser) -> None:
    migrate = commands.add_parser(
        "migrate-from-primehub", parents=[common],
        help="take over a PrimeHub install's deployments, groups and client tokens "
             "(a dry run unless --apply)")
    migrate.add_argument("--namespace", default="hub",
                         help="PrimeHub's namespace, where its PhDeployments are (hub)")
    migrate.add_argument("--apply", action="store_true", help="write the plan (default: only "
                         "print it)")
    migrate.add_argument("--kubernetes-url", help="the Kubernetes API (default: kubeconfig or "
                         "in-cluster)")
    migrate.add_argument("--kubeconfig", help="a kubeconfig file")
    migrate.add_argument("--keycloak-url", help="PrimeHub's Keycloak base URL "
                         "(https://id.example.com/auth); without it groups are not migrated")
    migrate.add_argument("--keycloak-realm", default="primehub",
                         help="PrimeHub's realm (primehub)")
