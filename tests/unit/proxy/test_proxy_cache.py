"""The verified-credential cache: keys, TTL, reconciliation, generation."""

from __future__ import annotations

import base64

from proxy.cache import VerifiedCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(ttl: float = 10.0, max_entries: int = 100) -> tuple[VerifiedCache, Clock]:
    clock = Clock()
    return VerifiedCache(pepper=b"p" * 32, ttl=ttl, clock=clock, max_entries=max_entries), clock


def _basic(client: str, token: str) -> str:
    return "Basic " + base64.b64encode(f"{client}:{token}".encode()).decode()


def test_keys_bind_deployment_client_and_token_and_hide_the_token() -> None:
    """Changing any part changes the key; the key does not contain the token."""
    cache, _ = make()
    key = cache.key("dep", _basic("app", "tok_secret"))
    assert key != cache.key("dep2", _basic("app", "tok_secret"))
    assert key != cache.key("dep", _basic("app2", "tok_secret"))
    assert key != cache.key("dep", _basic("app", "tok_secret2"))
    assert b"tok_secret" not in key
    assert base64.b64encode(b"app:tok_secret") not in key
    other_pepper = VerifiedCache(pepper=b"q" * 32, ttl=1)
    assert other_pepper.key("dep", _basic("app", "tok_secret")) != key


def test_entries_expire_after_the_ttl() -> None:
    """An entry is served until its TTL passes, then reads as a miss and is dropped."""
    cache, clock = make(ttl=10)
    key = cache.key("dep", _basic("app", "t"))
    cache.put(key, deployment_id="dep", client="app", credential_hash="h1")
    clock.now += 9.9
    assert cache.get(key) is not None
    clock.now += 0.2
    assert cache.get(key) is None
    assert len(cache) == 0


def test_reconcile_keeps_only_clients_whose_hash_is_unchanged() -> None:
    """Deleted and replaced clients are evicted; untouched clients and deployments stay."""
    cache, _ = make()
    keys = {}
    for deployment, client, hash_ in [("dep", "kept", "h1"), ("dep", "deleted", "h2"),
                                      ("dep", "replaced", "h3"), ("other", "kept", "h4")]:
        keys[deployment, client] = cache.key(deployment, _basic(client, "t"))
        cache.put(keys[deployment, client], deployment_id=deployment, client=client,
                  credential_hash=hash_)
    cache.reconcile("dep", {"kept": "h1", "replaced": "h3-new"})
    assert cache.get(keys["dep", "kept"]) is not None
    assert cache.get(keys["dep", "deleted"]) is None
    assert cache.get(keys["dep", "replaced"]) is None
    assert cache.get(keys["other", "kept"]) is not None
    assert sorted(cache.deployments()) == ["dep", "other"]


def test_evictions_and_clears_bump_the_generation() -> None:
    """A check that started before an eviction can tell, through the generation."""
    cache, _ = make()
    before = cache.generation
    cache.reconcile("dep", {})
    assert cache.generation == before + 1
    cache.clear()
    assert cache.generation == before + 2


def test_size_is_bounded_by_dropping_the_oldest() -> None:
    """Past max_entries, the oldest insert goes first."""
    cache, _ = make(max_entries=2)
    keys = [cache.key("dep", _basic(f"c{i}", "t")) for i in range(3)]
    for i, key in enumerate(keys):
        cache.put(key, deployment_id="dep", client=f"c{i}", credential_hash="h")
    assert cache.get(keys[0]) is None
    assert cache.get(keys[1]) is not None
    assert cache.get(keys[2]) is not None


def test_an_entry_lives_no_longer_than_its_token() -> None:
    """A lifetime shorter than the TTL ends the entry then; a longer one leaves the TTL."""
    cache, clock = make(ttl=10.0)
    short, long = cache.key("dep", _basic("a", "t")), cache.key("dep", _basic("b", "t"))
    cache.put(short, deployment_id="dep", client="a", credential_hash="h", lifetime=2.0)
    cache.put(long, deployment_id="dep", client="b", credential_hash="h", lifetime=50.0)
    clock.now += 1.99
    assert cache.get(short) is not None
    clock.now += 0.01
    assert cache.get(short) is None
    clock.now += 7.99
    assert cache.get(long) is not None
    clock.now += 0.01
    assert cache.get(long) is None
