"""Runtime failures classified from pod and Deployment status, named with the pod."""

from __future__ import annotations

from podstates import pod, replica_failure, running, terminated, unschedulable, waiting

from gateway.controller.diagnosis import diagnose


def test_healthy_or_starting_pods_have_no_problem() -> None:
    """Ready containers, ContainerCreating and PodInitializing are not failures."""
    pods = [pod("p1", phase="Running", containers=[running("model", ready=True)]),
            pod("p2", containers=[waiting("model", "ContainerCreating")]),
            pod("p3", containers=[waiting("model", "PodInitializing")],
                init=[running("storage-initializer", ready=False)])]
    assert diagnose(deployment=None, pods=pods) is None


def test_image_pull_errors_are_hard_and_name_pod_container_and_reason() -> None:
    """ImagePullBackOff: PrimeHub's wrong-image sentence, then pod, container and message."""
    problem = diagnose(deployment=None, pods=[pod("deploy-a-1", containers=[waiting(
        "model", "ImagePullBackOff", 'Back-off pulling image "nope:1"')])])
    assert problem is not None
    assert problem.kind == "image"
    assert problem.hard
    assert problem.message == ("Failed because of wrong image settings. Pod deploy-a-1: "
                               'container model: ImagePullBackOff: Back-off pulling image '
                               '"nope:1".')
    for reason in ("ErrImagePull", "InvalidImageName"):
        found = diagnose(deployment=None, pods=[pod("p", containers=[waiting("model", reason)])])
        assert found is not None
        assert found.kind == "image"


def test_crash_loops_report_exit_code_last_reason_and_restarts() -> None:
    """CrashLoopBackOff after an OOM kill: exit code 137, OOMKilled, restart count."""
    problem = diagnose(deployment=None, pods=[pod("deploy-a-2", containers=[waiting(
        "model", "CrashLoopBackOff", "back-off 40s restarting failed container", restarts=3,
        last={"exitCode": 137, "reason": "OOMKilled"})])])
    assert problem is not None
    assert problem.kind == "crash"
    assert problem.hard
    assert problem.message == ("Failed because the model container keeps crashing. Pod "
                               "deploy-a-2: container model: exit code 137, OOMKilled, "
                               "restarted 3 times.")


def test_a_restarted_container_between_crashes_is_a_crash_loop() -> None:
    """Running but not ready, with a non-zero last termination: still crashing."""
    problem = diagnose(deployment=None, pods=[pod("p", containers=[running(
        "model", ready=False, restarts=1, last={"exitCode": 1, "reason": "Error",
                                                "message": "Traceback: boom\n"})])])
    assert problem is not None
    assert problem.kind == "crash"
    assert problem.message.endswith("container model: exit code 1, Error, restarted 1 time: "
                                    "Traceback: boom.")


def test_a_recovered_ready_container_is_not_a_crash() -> None:
    """A ready container with an old crash in lastState is fine now."""
    healthy = pod("p", containers=[running("model", ready=True, restarts=2,
                                           last={"exitCode": 1, "reason": "Error"})])
    assert diagnose(deployment=None, pods=[healthy]) is None


def test_unschedulable_is_soft_and_quotes_the_scheduler() -> None:
    """PodScheduled False/Unschedulable: PrimeHub's sentence and the scheduler's reason."""
    problem = diagnose(deployment=None, pods=[pod("p", conditions=unschedulable(
        "0/3 nodes are available: 3 Insufficient cpu."))])
    assert problem is not None
    assert problem.kind == "unschedulable"
    assert not problem.hard
    assert problem.message == ("Certain pods unschedulable. Pod p: 0/3 nodes are available: "
                               "3 Insufficient cpu.")


def test_init_container_failures_are_model_download_failures() -> None:
    """The storage initializer's non-zero exit or crash loop means the copy failed."""
    problem = diagnose(deployment=None, pods=[pod("p", init=[terminated(
        "storage-initializer", 1, "Error", "NoSuchBucket")], containers=[waiting(
            "model", "PodInitializing")])])
    assert problem is not None
    assert problem.kind == "model-download"
    assert problem.message == ("Failed because cannot successfully copy the model from the "
                               "model URI. Pod p: container storage-initializer: exit code 1, "
                               "Error: NoSuchBucket.")
    looping = diagnose(deployment=None, pods=[pod("p", init=[waiting(
        "storage-initializer", "CrashLoopBackOff", restarts=2,
        last={"exitCode": 1, "reason": "Error"})])])
    assert looping is not None
    assert looping.kind == "model-download"


def test_quota_rejection_comes_from_the_deployments_replica_failure() -> None:
    """FailedCreate: the admission's refusal is quoted after PrimeHub's cut."""
    refused = replica_failure(
        'pods "deploy-a-x" is forbidden: admission webhook "resources.primehub.io" denied the '
        "request: Group data-team exceeded cpu quota: 2, requesting 4")
    problem = diagnose(deployment=refused, pods=[])
    assert problem is not None
    assert problem.kind == "quota"
    assert problem.hard
    assert problem.message == ("Failed because the pods were refused by a quota: Group "
                               "data-team exceeded cpu quota: 2, requesting 4")
    quota = diagnose(deployment=replica_failure(
        'pods "x" is forbidden: exceeded quota: q, requested: cpu=4, used: cpu=0, limited: '
        "cpu=2"), pods=[])
    assert quota is not None
    assert quota.message.endswith("exceeded quota: q, requested: cpu=4, used: cpu=0, "
                                  "limited: cpu=2")


def test_the_most_important_problem_wins_and_pods_are_listed_in_order() -> None:
    """Image beats unschedulable; several pods are named in name order, at most three."""
    pods = [pod(f"p{index}", containers=[waiting("model", "ErrImagePull")])
            for index in (5, 1, 3, 4, 2)]
    pods.append(pod("p0", conditions=unschedulable("no nodes")))
    problem = diagnose(deployment=None, pods=pods)
    assert problem is not None
    assert problem.kind == "image"
    assert problem.message == ("Failed because of wrong image settings. Pod p1: container "
                               "model: ErrImagePull. Pod p2: container model: ErrImagePull. "
                               "Pod p3: container model: ErrImagePull. (and 2 more)")


def test_terminating_pods_are_ignored() -> None:
    """A pod being deleted (an old rollout pod) explains nothing."""
    gone = pod("old", deleting=True, containers=[waiting("model", "ErrImagePull")])
    assert diagnose(deployment=None, pods=[gone]) is None
