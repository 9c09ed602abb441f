"""``PhDeployment.failure``: each class of failure the controller records, explained."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.kube import phdeployments
from schema.failures import explain


def view(reason: str | None, message: str, *, phase: str = "Failed",
         **predictor: Any) -> phdeployments.PhDeployment:
    """A stored deployment whose controller wrote ``phase`` for reason ``reason``."""
    conditions = [{"type": "Available", "status": "False", "reason": reason,
                   "message": message}] if reason else []
    return phdeployments.parse({
        "metadata": {"name": "iris", "namespace": "ns", "generation": 1},
        "spec": {"groupId": "team-a", "predictors": [{
            "name": "predictor1", "replicas": 1, "modelImage": "acme/iris:v9",
            "instanceType": "cpu-1", "modelURI": "gs://bucket/iris", **predictor}]},
        "status": {"phase": phase, "message": message, "observedGeneration": 1,
                   "conditions": conditions}})


@pytest.mark.parametrize(("reason", "message", "expected", "named"), [
    ("ImageFailure", "Failed because of wrong image settings. Pod p: ErrImagePull.",
     "ImagePull", "the image `acme/iris:v9` cannot be pulled"),
    ("ModelDownloadFailure", "Failed because cannot successfully copy the model.",
     "ModelDownload", "the model cannot be copied from `gs://bucket/iris`"),
    ("QuotaFailure", "Failed because the pods were refused by a quota: exceeded", "Quota",
     "quota"),
    ("ContainerFailure", "Failed because the model container cannot be created.",
     "ContainerConfig", "cannot be created"),
    ("CrashFailure", "Pod p: container model: exit code 1, restarted 3 times.", "Crash",
     "keeps crashing"),
    ("CrashFailure", "Pod p: container model: exit code 137, OOMKilled.", "OutOfMemory",
     "memory"),
    ("ProgressDeadlineExceeded", "Failed because the deployment is not available for over "
     "5 min. Certain pods unschedulable. Pod p: 0/3 nodes", "Unschedulable", "no node"),
    ("ProgressDeadlineExceeded", "Failed because the deployment is not available for over "
     "5 min", "Deadline", "in time"),
    ("ConfigurationError", "The model deployment is not enabled for the selected group",
     "Configuration", "`team-a`"),
    ("ConfigurationError", "InstanceType not found: cpu-1", "Configuration", "`cpu-1`"),
    ("ConfigurationError", "Failed because cannot successfully copy the model from the model "
     "URI. The scheme 'ftp' is not supported", "ModelDownload", "not supported"),
    ("SomethingNew", "it broke", "Unknown", "failed"),
])
def test_each_failure_class_is_explained(reason: str, message: str, expected: str,
                                         named: str) -> None:
    """The recorded reason becomes a stable class, a summary naming what broke, a hint and
    the full message."""
    failure = explain(view(reason, message))
    assert failure is not None
    assert failure.reason == expected
    assert named in failure.summary
    assert failure.hint
    assert failure.detail == message


def test_the_pull_secret_is_named_in_the_hint() -> None:
    """An image that cannot be pulled with a pull secret points at that secret."""
    failure = explain(view("ImageFailure", "x", imagePullSecret="regcred"))
    assert failure is not None
    assert failure.hint == "check the name and tag, or the pull secret `regcred`"


@pytest.mark.parametrize("phase", ["Deploying", "Deployed", "Stopped"])
def test_only_failed_deployments_have_a_failure(phase: str) -> None:
    """Deploying with a problem, Deployed or Stopped: no failure to explain."""
    assert explain(view("UnschedulableFailure", "Certain pods unschedulable.",
                        phase=phase)) is None
