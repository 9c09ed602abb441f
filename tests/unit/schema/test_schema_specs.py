"""From input to stored spec: PrimeHub's create, update, start, stop and client semantics."""

from __future__ import annotations

import pytest
from strawberry.scalars import JSON

from gateway.api.settings import ApiSettings
from gateway.kube.groups import Group, GroupSpec
from gateway.kube.phdeployments import DeploymentSpec, Endpoint, EnvVar, Predictor
from schema import specs
from schema.errors import BadUserInput
from schema.inputs import PhDeploymentCreateInput, PhDeploymentUpdateInput

SETTINGS = ApiSettings()
GROUP = Group("team-a", GroupSpec(enabled_deployment=True))
NOW = "2030-01-02T03:04:05.678Z"


def current(**values: object) -> DeploymentSpec:
    spec = DeploymentSpec(
        predictor=Predictor(replicas=2, model_image="img:1", instance_type="cpu-1",
                            model_uri="gs://b/m", image_pull_secret="regcred",
                            metadata={"k": "v"}),
        display_name="Iris", user_id="alice", user_name="alice", group_id="team-a",
        group_name="team-a", stop=True, description="d", update_message="first",
        update_time="2029-01-01T00:00:00.000Z", env=(EnvVar("A", "1"),),
        endpoint=Endpoint("private", ("app", "batch")))
    return DeploymentSpec(**{**vars(spec), **values})  # type: ignore[arg-type]


def test_a_created_spec_records_caller_group_and_defaults() -> None:
    """Create: running, private, one replica, the id as name, the caller and the time."""
    spec = specs.created(PhDeploymentCreateInput(id="iris-x", model_image=" img:1 ",
                                                 instance_type="cpu-1", group_id="team-a"),
                         group=GROUP, user="bob", now=NOW, settings=SETTINGS)
    assert spec == DeploymentSpec(
        predictor=Predictor(replicas=1, model_image="img:1", instance_type="cpu-1"),
        display_name="iris-x", user_id="bob", user_name="bob", group_id="team-a",
        group_name="team-a", stop=False, update_time=NOW, endpoint=Endpoint("private", ()))


def test_the_default_access_type_is_a_setting() -> None:
    """An install that restores PrimeHub's public default gets public deployments unless the
    input says otherwise; an explicit access type always wins."""
    public = ApiSettings(default_access_type="public")
    for settings, sent, expected in ((public, None, "public"), (public, "private", "private"),
                                     (SETTINGS, "public", "public")):
        spec = specs.created(PhDeploymentCreateInput(
            id="iris-x", model_image="img:1", instance_type="cpu-1", group_id="team-a",
            endpoint_access_type=sent), group=GROUP, user="bob", now=NOW, settings=settings)
        assert spec.endpoint.access_type == expected


def test_an_update_changes_only_what_was_sent_and_restarts() -> None:
    """Update: sent fields replace, absent ones stay; stop false; caller and time recorded."""
    change = specs.changes(PhDeploymentUpdateInput(replicas=3, description="new"),
                           settings=SETTINGS)
    spec = specs.updated(current(), change, user="bob", now=NOW)
    assert spec == current(predictor=Predictor(
        replicas=3, model_image="img:1", instance_type="cpu-1", model_uri="gs://b/m",
        image_pull_secret="regcred", metadata={"k": "v"}), description="new", stop=False,
        user_id="bob", user_name="bob", update_time=NOW)


def test_null_clears_optional_fields_but_never_the_name() -> None:
    """``null`` clears modelURI, imagePullSecret, metadata and env; a null name is kept."""
    change = specs.changes(PhDeploymentUpdateInput(
        model_uri=None, image_pull_secret=None, metadata=None, env=None, name=None,
        model_image=None, replicas=None), settings=SETTINGS)
    spec = specs.updated(current(), change, user="bob", now=NOW)
    assert spec.predictor == Predictor(replicas=2, model_image="img:1", instance_type="cpu-1")
    assert (spec.env, spec.display_name) == ((), "Iris")


def test_update_fields_are_validated() -> None:
    """Update input goes through the same validation as create."""
    with pytest.raises(BadUserInput) as caught:
        specs.changes(PhDeploymentUpdateInput(metadata=JSON(["x"])), settings=SETTINGS)
    assert caught.value.field == "metadata"


def test_switching_to_public_drops_the_clients() -> None:
    """A public endpoint has no clients: an update to public empties the list."""
    change = specs.changes(PhDeploymentUpdateInput(endpoint_access_type="public"),
                           settings=SETTINGS)
    spec = specs.updated(current(), change, user="bob", now=NOW)
    assert spec.endpoint == Endpoint("public", ())
    assert specs.dropped_clients(current().endpoint.clients, spec) == ["app", "batch"]


def test_start_and_stop_use_primehubs_messages() -> None:
    """Start and stop set ``stop`` and PrimeHub's update messages, recording the caller."""
    started = specs.started(current(), user="bob", now=NOW)
    assert (started.stop, started.update_message, started.user_id) == (
        False, "Deployment Started", "bob")
    stopped = specs.stopped(current(stop=False), user="carol", now=NOW)
    assert (stopped.stop, stopped.update_message, stopped.user_name) == (
        True, "Deployment Stopped", "carol")


def test_clients_are_added_once_and_removed_by_name() -> None:
    """Adding a listed client changes nothing; removing an unknown one names ``name``."""
    assert specs.with_client(current(), "app") is None
    added = specs.with_client(current(), "new")
    assert added is not None
    assert (added.endpoint.clients, added.update_message) == (
        ("app", "batch", "new"), "Create the client new")
    removed = specs.without_client(current(), "app")
    assert (removed.endpoint.clients, removed.update_message) == (
        ("batch",), "Delete the client app")
    with pytest.raises(BadUserInput):
        specs.without_client(current(), "ghost")
