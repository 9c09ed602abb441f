"""Serving the console: pages, hashed assets, caching, gzip, the strict CSP, and GraphiQL
from the console's own build (never a CDN)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from apikit import Api, StartApi

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'; form-action 'self'")
INDEX = ("<!doctype html><html><head><script type=module src=/assets/app-1a2b3c.js></script>"
         "</head><body><div id=app></div>" + "<!-- padding -->" * 40 + "</body></html>")
SCRIPT = "console.log('the console');\n" * 200
GRAPHIQL = "<!doctype html><title>GraphiQL</title><script src=/assets/gql-9f8e.js></script>"


@pytest.fixture
def built(tmp_path: Path) -> Path:
    """A console build as ``npm run build`` lays it out."""
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(INDEX)
    (tmp_path / "assets" / "app-1a2b3c.js").write_text(SCRIPT)
    (tmp_path / "graphiql.html").write_text(GRAPHIQL)
    return tmp_path


@pytest.fixture
async def console(start_api: StartApi, built: Path) -> Api:
    return await start_api(console_dir=built, graphiql=True)


async def test_pages_are_the_app_with_a_strict_policy(console: Api) -> None:
    """``/`` and every console route answer index.html, revalidated, with the strict CSP."""
    for path in ("/", "/deployments/iris-demo", "/admin/api-tokens"):
        async with console.session.get(f"{console.url}{path}") as response:
            assert response.status == 200
            assert await response.text() == INDEX
            assert response.headers["Content-Type"] == "text/html; charset=utf-8"
            assert response.headers["Content-Security-Policy"] == CSP
            assert response.headers["Cache-Control"] == "no-cache"
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert response.headers["X-Frame-Options"] == "DENY"
            assert response.headers["Referrer-Policy"] == "no-referrer"


async def test_hashed_assets_are_cached_for_good_and_gzipped(console: Api) -> None:
    """An ``assets/`` file is immutable for a year and sent gzipped to whoever accepts it."""
    url = f"{console.url}/assets/app-1a2b3c.js"
    async with console.session.get(url, headers={"Accept-Encoding": "gzip"},
                                   auto_decompress=False) as response:
        assert response.status == 200
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
        assert response.headers["Content-Encoding"] == "gzip"
        assert response.headers["Vary"] == "Accept-Encoding"
        compressed = await response.read()
    assert gzip.decompress(compressed).decode() == SCRIPT
    assert len(compressed) < len(SCRIPT) / 10
    async with console.session.get(url, headers={"Accept-Encoding": "identity"}) as response:
        assert "Content-Encoding" not in response.headers
        assert await response.text() == SCRIPT


async def test_unchanged_files_answer_not_modified(console: Api) -> None:
    """A revalidation with the current ETag costs a 304 and no body."""
    async with console.session.get(f"{console.url}/") as response:
        etag = response.headers["ETag"]
    async with console.session.get(f"{console.url}/",
                                   headers={"If-None-Match": etag}) as response:
        assert response.status == 304
        assert await response.read() == b""


@pytest.mark.parametrize("path", ["/assets/gone-000.js", "/favicon.ico", "/api/nothing",
                                  "/auth/nothing", "/logs/nothing", "/graphqlx"])
async def test_missing_files_and_api_paths_are_not_the_app(console: Api, path: str) -> None:
    """A missing file, or a path under an API prefix, is a 404, not the console's page."""
    async with console.session.get(f"{console.url}{path}") as response:
        assert response.status == 404
        assert await response.text() != INDEX


async def test_api_routes_still_win(console: Api) -> None:
    """The console's catch-all comes after every API route."""
    async with console.session.get(f"{console.url}/healthz") as response:
        assert await response.text() == "ok\n"
    async with console.session.get(f"{console.url}/graphql",
                                   params={"query": "{ __typename }"}) as response:
        assert (await response.json())["data"] == {"__typename": "Query"}


async def test_graphiql_is_the_offline_build(console: Api) -> None:
    """A browser's GET /graphql gets the console's GraphiQL page: nothing from a CDN."""
    async with console.session.get(f"{console.url}/graphql",
                                   headers={"Accept": "text/html"}) as response:
        assert response.status == 200
        assert await response.text() == GRAPHIQL
        policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy
    assert "connect-src 'self';" in policy
    assert "font-src 'self' data:;" in policy  # graphiql's stylesheet inlines its fonts
    assert "http" not in policy


async def test_graphiql_is_off_unless_enabled(start_api: StartApi, built: Path) -> None:
    """Without the setting, a browser's GET /graphql is a 404."""
    api = await start_api(console_dir=built)
    async with api.session.get(f"{api.url}/graphql",
                               headers={"Accept": "text/html"}) as response:
        assert response.status == 404


async def test_an_unbuilt_console_says_so(start_api: StartApi, tmp_path: Path) -> None:
    """Without built files the API still serves GraphQL, and ``/`` says how to build them."""
    api = await start_api(console_dir=tmp_path)
    async with api.session.get(f"{api.url}/") as response:
        assert response.status == 503
        assert "npm run build" in await response.text()
