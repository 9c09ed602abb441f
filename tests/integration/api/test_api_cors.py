"""CORS: only configured console origins may call the API from a browser; none by default."""

from __future__ import annotations

from apikit import BOOTSTRAP, StartApi

CONSOLE = "https://console.example.com"
PREFLIGHT = {"Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "authorization,content-type,x-primehub-use-cache"}


async def test_a_configured_origin_is_allowed_with_the_consoles_headers(
        start_api: StartApi) -> None:
    """The preflight allows Authorization, Content-Type and x-primehub-use-cache; answers
    (GraphQL and errors alike) name the origin, and no other origin."""
    api = await start_api(cors_origins=frozenset({CONSOLE}))
    async with api.session.options(f"{api.url}/api/graphql",
                                   headers={"Origin": CONSOLE, **PREFLIGHT}) as response:
        assert response.status == 204
        assert response.headers["Access-Control-Allow-Origin"] == CONSOLE
        allowed = {name.strip().lower() for name in
                   response.headers["Access-Control-Allow-Headers"].split(",")}
        assert allowed == {"authorization", "content-type", "x-primehub-use-cache"}
        assert "POST" in response.headers["Access-Control-Allow-Methods"]
        assert "Origin" in response.headers["Vary"]
    async with api.session.post(f"{api.url}/api/graphql", json={"query": "{ me { id } }"},
                                headers={"Origin": CONSOLE, "x-primehub-use-cache": "true",
                                         "Authorization": f"Bearer {BOOTSTRAP}"}) as response:
        assert response.status == 200
        assert response.headers["Access-Control-Allow-Origin"] == CONSOLE
    async with api.session.get(f"{api.url}/logs/namespaces/default/phdeployments/x",
                               headers={"Origin": CONSOLE}) as response:
        assert response.status == 401
        assert response.headers["Access-Control-Allow-Origin"] == CONSOLE
    other = "https://evil.example.com"
    async with api.session.options(f"{api.url}/api/graphql",
                                   headers={"Origin": other, **PREFLIGHT}) as response:
        assert response.status == 403
        assert "Access-Control-Allow-Origin" not in response.headers
    async with api.session.post(f"{api.url}/api/graphql", json={"query": "{ me { id } }"},
                                headers={"Origin": other}) as response:
        assert "Access-Control-Allow-Origin" not in response.headers


async def test_nothing_is_allowed_by_default(start_api: StartApi) -> None:
    """Without configured origins a preflight is refused and no answer carries CORS headers."""
    api = await start_api()
    async with api.session.options(f"{api.url}/graphql",
                                   headers={"Origin": CONSOLE, **PREFLIGHT}) as response:
        assert response.status == 403
        assert "Access-Control-Allow-Origin" not in response.headers
    async with api.session.post(f"{api.url}/graphql", json={"query": "{ me { id } }"},
                                headers={"Origin": CONSOLE}) as response:
        assert response.status == 200
        assert not any(name.startswith("Access-Control") for name in response.headers)
