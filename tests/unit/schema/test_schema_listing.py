"""Deployment lists: PrimeHub's filters and cursor paging over views in list order."""

from __future__ import annotations

from gateway.kube.phdeployments import DeploymentSpec, PhDeployment, Predictor
from schema import listing


def item(name: str, *, display: str = "", group: str = "g", user: str = "u") -> PhDeployment:
    return PhDeployment(name=name, namespace="default", spec=DeploymentSpec(
        predictor=Predictor(replicas=1, model_image="m", instance_type="t"),
        display_name=display or name, group_id=group, user_id=user))


ROWS = [item("aa-1", display="Iris Model", group="g1", user="alice"),
        item("bb-2", display="wine", group="g2", user="bob"),
        item("cc-3", display="IRIS v2", group="g1", user="bob"),
        item("dd-4", display="mnist", group="g3", user="alice")]


def names(rows: list[PhDeployment]) -> list[str]:
    return [row.name for row in rows]


def test_search_is_case_insensitive_on_id_and_name() -> None:
    """``search`` matches the id or the name whatever their case."""
    assert names(listing.select(ROWS, listing.Filter(search="iris"))) == ["aa-1", "cc-3"]
    assert names(listing.select(ROWS, listing.Filter(search="BB"))) == ["bb-2"]


def test_name_contains_is_case_sensitive() -> None:
    """``name_contains`` matches the name with its case."""
    assert names(listing.select(ROWS, listing.Filter(name_contains="IRIS"))) == ["cc-3"]


def test_group_and_user_filters_combine() -> None:
    """Group ids and the ``mine`` user id both restrict the list."""
    where = listing.Filter(group_ids=frozenset({"g1", "g3"}), user_id="alice")
    assert names(listing.select(ROWS, where)) == ["aa-1", "dd-4"]


def test_requested_groups_are_intersected_with_visible_ones() -> None:
    """``groupId_in`` never widens what the caller may see; empty means all visible."""
    visible = frozenset({"g1", "g2"})
    assert listing.allowed_groups(["g2", "g3", None], visible) == {"g2"}
    assert listing.allowed_groups(None, visible) == visible
    assert listing.allowed_groups([], visible) == visible
    assert listing.allowed_groups(["g3"], None) == {"g3"}
    assert listing.allowed_groups(None, None) is None


def test_first_and_after_page_forward() -> None:
    """``first`` takes from the front, ``after`` starts behind the cursor."""
    page = listing.paginate(ROWS, first=2)
    assert (names(page.rows), page.has_next, page.has_previous) == (["aa-1", "bb-2"], True, False)
    assert (page.current_page, page.total_pages) == (1, 2)
    page = listing.paginate(ROWS, first=2, after="bb-2")
    assert (names(page.rows), page.has_next, page.has_previous) == (["cc-3", "dd-4"], False, True)
    assert page.current_page == 2


def test_last_and_before_page_backward() -> None:
    """``before`` keeps the rows ahead of the cursor, ``last`` takes from their end."""
    page = listing.paginate(ROWS, last=1, before="cc-3")
    assert (names(page.rows), page.has_next, page.has_previous) == (["bb-2"], True, True)


def test_unknown_cursors_keep_everything() -> None:
    """As in PrimeHub, a cursor that is not in the list does not cut it."""
    assert names(listing.paginate(ROWS, after="zz", before="yy").rows) == names(ROWS)


def test_empty_pages_have_no_neighbours() -> None:
    """An empty page has neither a next nor a previous page (PrimeHub's answer)."""
    page = listing.paginate(ROWS, first=2, after="dd-4")
    assert (page.rows, page.has_next, page.has_previous) == ([], False, False)
    page = listing.paginate([], first=5)
    assert (page.rows, page.total_pages, page.current_page) == ([], 1, 1)
