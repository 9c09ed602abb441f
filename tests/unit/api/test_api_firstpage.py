"""The first page's data block: escaped for HTML, and the group it shows first."""

from __future__ import annotations

import json
import re

from gateway.api.firstpage import data_block, selected_group

ME = {"effectiveGroups": [{"id": "alpha"}, {"id": "beta"}]}


def test_data_block_cannot_end_the_script_element() -> None:
    """No `<`, `>` or `&` reaches the HTML, and the JSON reads back the same."""
    data = {"name": "</script><script>alert(1)</script> & <!--"}
    block = data_block(data).decode()
    inner = re.fullmatch(r'<script type="application/json" id="mg-first">(.*)</script>', block)
    assert inner is not None
    assert not set("<>&") & set(inner[1])
    assert json.loads(inner[1]) == data


def test_the_remembered_group_is_used_when_it_is_the_users() -> None:
    """The cookie's group wins when the user is in it."""
    assert selected_group(ME, "beta") == {"id": "beta"}


def test_an_unknown_or_malformed_group_falls_back_to_the_first() -> None:
    """A group the user is not in, or a malformed value, gives the first group."""
    assert selected_group(ME, "gamma") == {"id": "alpha"}
    assert selected_group(ME, "beta; x=1") == {"id": "alpha"}
    assert selected_group(ME, None) == {"id": "alpha"}
    assert selected_group({"effectiveGroups": []}, "beta") is None
