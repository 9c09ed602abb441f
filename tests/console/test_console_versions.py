"""Versions on the detail page (issue 15): `Rollback` on a History entry, and the predictors
with their share of the traffic on the Information tab."""

from __future__ import annotations

import time

import pytest
from browserkit import DevStack, record_page
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.timeout(240)

UPDATE = """mutation ($id: ID!, $data: PhDeploymentUpdateInput!) {
  updatePhDeployment(where: {id: $id}, data: $data) { id } }"""
IMAGE = """query ($id: ID!) { phDeployment(where: {id: $id}) { modelImage } }"""
HISTORY = """query ($id: ID!) { phDeployment(where: {id: $id}) {
  history { deployment { updateMessage } } } }"""
ADD_PREDICTOR = """mutation ($id: ID!, $data: PhDeploymentPredictorCreateInput!) {
  addPhDeploymentPredictor(where: {id: $id}, data: $data) { id } }"""
TRAFFIC = """mutation ($id: ID!, $data: PhDeploymentTrafficInput!) {
  setPhDeploymentTraffic(where: {id: $id}, data: $data) { id } }"""
FIRST_IMAGE = "infuseai/sklearn-prepackaged:v0.1.0"


def wait_for_entries(dev_stack: DevStack, deployment_id: str, count: int) -> None:
    """Until the controller has recorded ``count`` history entries (close changes coalesce)."""
    deadline = time.monotonic() + 60
    while len(dev_stack.gql(HISTORY, {"id": deployment_id})["phDeployment"]["history"]) < count:
        assert time.monotonic() < deadline, f"{deployment_id} never had {count} entries"
        time.sleep(0.2)


def test_rollback_writes_an_older_entry_back(page: Page, dev_stack: DevStack) -> None:
    """`Rollback` on an older entry restores its model and adds a history entry saying so."""
    dev_stack.create("rolled-one", wait=False, replicas=0)
    wait_for_entries(dev_stack, "rolled-one", 1)
    dev_stack.gql(UPDATE, {"id": "rolled-one", "data": {
        "modelImage": "infuseai/sklearn-prepackaged:v0.2.0", "updateMessage": "try tf"}})
    wait_for_entries(dev_stack, "rolled-one", 2)
    page.goto("/deployments/rolled-one/history")
    rows = page.get_by_role("table", name="History, newest first").get_by_role("row")
    expect(rows.filter(has_text="try tf")).to_have_count(1)
    expect(rows.filter(has_text="try tf").get_by_role("button", name="Rollback")).to_have_count(0)
    rows.nth(2).get_by_role("button", name="Rollback").click()
    dialog = page.get_by_role("dialog", name="Rollback")
    dialog.get_by_label("Update Message").fill("tf was slower")
    dialog.get_by_role("button", name="Rollback").click()
    expect(dialog).to_have_count(0)
    expect(rows.filter(has_text="rolled back to")).to_have_count(1)
    expect(rows.filter(has_text="tf was slower")).to_have_count(1)
    record_page(page, "19-detail-history-rollback")
    assert dev_stack.gql(IMAGE, {"id": "rolled-one"})["phDeployment"]["modelImage"] == FIRST_IMAGE


def test_predictors_show_with_their_traffic(page: Page, dev_stack: DevStack) -> None:
    """With a second predictor the Information tab lists each and its share, live."""
    dev_stack.create("split-one", replicas=0, wait=False)
    page.goto("/deployments/split-one")
    expect(page.get_by_text("Creation Time")).to_be_visible()
    table = page.get_by_role("table", name="Predictors")
    expect(table).to_have_count(0)
    dev_stack.gql(ADD_PREDICTOR, {"id": "split-one", "data": {
        "name": "canary", "modelImage": FIRST_IMAGE, "replicas": 0}})
    dev_stack.gql(TRAFFIC, {"id": "split-one", "data": {"split": [
        {"name": "predictor1", "trafficPercent": 90}, {"name": "canary", "trafficPercent": 10}]}})
    expect(table.get_by_role("row").filter(has_text="canary")).to_contain_text("10%")
    expect(table.get_by_role("row").filter(has_text="predictor1 (primary)")).to_contain_text(
        "90%")
    expect(table).to_contain_text("/deployment/split-one@canary/")
    record_page(page, "20-detail-predictors")
