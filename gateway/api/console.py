"""The web console's files: the built single-page app, served by the API at ``/``.

``npm run build`` in ``console/`` writes the app to ``gateway/console_dist/`` (the package
build runs it; see ``setup.py``), so the files ship inside the wheel; ``API_CONSOLE_DIR``
serves another directory instead. Every file is read once, at start, into memory with its
gzip form and an ETag: the whole app is a few hundred kilobytes, and a request then costs no
disk read and no compression.

Rules, in order, for a GET that no API route took:

1. a reserved prefix (``/api/``, ``/auth/``, ``/logs/``, ``/graphql``...) is never the
   console: 404;
2. an existing file is served; ``assets/`` files have content hashes in their names and are
   cached for a year (``immutable``), everything else is revalidated (``no-cache`` + ETag);
3. a path whose last segment looks like a file name (has a dot) and does not exist: 404;
4. anything else is a console page: ``index.html`` (the app routes in the browser).

For a signed-in browser the server hands a console page to :mod:`gateway.api.firstpage`,
which puts the page's first data into it (:meth:`Console.personal_page`): that answer is the
user's own, so it is never stored by a cache (``no-store``) and is compressed per request.

Every answer carries a strict Content-Security-Policy: scripts, styles, images, fonts and
connections from this origin only, nothing inline, no frames. GraphiQL's page
(``graphiql.html``, served on ``GET /graphql`` when enabled) also needs inline styles, fonts
inlined as ``data:`` URIs and blob workers for its editor; it still loads nothing from
another host.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import zlib
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from aiohttp import web

import gateway

PACKAGED: Final = Path(gateway.__file__).resolve().parent / "console_dist"
INDEX: Final = "index.html"
GRAPHIQL: Final = "graphiql.html"
OPERATIONS: Final = "operations.graphql"  # the console's GraphQL operations, copied by the build
RESERVED: Final = ("api/", "auth/", "logs/", "graphql", "healthz", "readyz", "metrics")
CSP: Final = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
              "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
              "frame-ancestors 'none'; form-action 'self'")
GRAPHIQL_CSP: Final = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'") \
    .replace("font-src 'self'", "font-src 'self' data:") + "; worker-src 'self' blob:"
SECURITY_HEADERS: Final = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
                           "X-Frame-Options": "DENY"}
_COMPRESSIBLE: Final = ("text/", "application/javascript", "application/json", "image/svg+xml",
                        "application/manifest+json", "application/wasm")
_MIN_GZIP: Final = 256
_GZIP_WINDOW: Final = 16 + zlib.MAX_WBITS  # a gzip stream (header and trailer), not raw zlib
_NOT_BUILT: Final = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Console not built</title></head>
<body><main><h1>The console is not part of this installation</h1>
<p>Its files were not built. Install the package with <code>pip install .</code> (which runs
<code>npm ci &amp;&amp; npm run build</code> in <code>console/</code>), or build them yourself
there. The GraphQL API is at <a href="/graphql">/graphql</a>.</p></main></body></html>
"""


@dataclass(frozen=True)
class File:
    body: bytes
    gzipped: bytes | None
    content_type: str
    etag: str
    cache_control: str
    csp: str


def _load(root: Path, path: Path) -> File:
    relative = path.relative_to(root).as_posix()
    body = path.read_bytes()
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if content_type.startswith("text/") or content_type == "application/javascript":
        content_type += "; charset=utf-8"
    compressible = content_type.startswith(_COMPRESSIBLE) and len(body) >= _MIN_GZIP
    gzipped = gzip.compress(body, compresslevel=9, mtime=0) if compressible else None
    immutable = relative.startswith("assets/")
    return File(body=body, gzipped=gzipped if gzipped and len(gzipped) < len(body) else None,
                content_type=content_type,
                etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"',
                cache_control="public, max-age=31536000, immutable" if immutable
                else "no-cache",
                csp=GRAPHIQL_CSP if relative == GRAPHIQL else CSP)


class Console:
    """The console's files in memory, and the handler serving them."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or PACKAGED
        self._files: dict[str, File] = {}
        if (self.root / INDEX).is_file():
            self._files = {path.relative_to(self.root).as_posix(): _load(self.root, path)
                           for path in sorted(self.root.rglob("*")) if path.is_file()}

    @property
    def built(self) -> bool:
        return INDEX in self._files

    @property
    def operations(self) -> str | None:
        """The text of the console's GraphQL operations, when the build has them."""
        found = self._files.get(OPERATIONS)
        return None if found is None else found.body.decode()

    def is_page(self, path: str) -> bool:
        """True when ``path`` (without its leading slash) is answered with the console's page
        (rule 4 of the module docstring)."""
        return self.built and not path.startswith(RESERVED) and path not in self._files \
            and "." not in path.rsplit("/", 1)[-1]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["path"]
        if path.startswith(RESERVED):
            raise web.HTTPNotFound(text="not found\n")
        found = self._files.get(path)
        if found is None:
            if "." in path.rsplit("/", 1)[-1]:
                raise web.HTTPNotFound(text=f"no file /{path} in the console\n")
            return self.page(request, INDEX)
        return self._respond(request, found)

    async def personal_page(self, request: web.Request,
                            data: Awaitable[bytes]) -> web.StreamResponse:
        """The console's page for one user, with ``data`` (a data block, already escaped for
        HTML) before ``</body>``: not cacheable, compressed (level 6) when accepted.

        Everything before the data is sent at once, so the browser fetches the scripts and
        styles while the server is still working out the data; the scripts (modules) run only
        once the page has arrived whole.
        """
        page = self._files[INDEX].body
        end = page.rfind(b"</body>")
        head, tail = (page[:end], page[end:]) if end >= 0 else (page, b"")
        response = web.StreamResponse(headers={
            "Content-Type": self._files[INDEX].content_type, "Cache-Control": "no-store",
            "Vary": "Accept-Encoding, Cookie", "Content-Security-Policy": CSP,
            **SECURITY_HEADERS})
        packer = zlib.compressobj(6, zlib.DEFLATED, _GZIP_WINDOW) if _accepts_gzip(request) \
            else None
        if packer is not None:
            response.headers["Content-Encoding"] = "gzip"
        await response.prepare(request)
        await response.write(head if packer is None
                             else packer.compress(head) + packer.flush(zlib.Z_SYNC_FLUSH))
        rest = await data + tail
        await response.write(rest if packer is None else packer.compress(rest) + packer.flush())
        await response.write_eof()
        return response

    def page(self, request: web.Request, name: str) -> web.Response:
        """One of the console's pages (``index.html``, ``graphiql.html``), or a page saying
        the console was not built."""
        found = self._files.get(name)
        if found is None:
            return web.Response(status=404 if self.built else 503, text=_NOT_BUILT,
                                content_type="text/html",
                                headers={"Content-Security-Policy": CSP, **SECURITY_HEADERS,
                                         "Cache-Control": "no-store"})
        return self._respond(request, found)

    def _respond(self, request: web.Request, found: File) -> web.Response:
        headers = {"Content-Type": found.content_type, "Cache-Control": found.cache_control,
                   "ETag": found.etag, "Vary": "Accept-Encoding",
                   "Content-Security-Policy": found.csp, **SECURITY_HEADERS}
        if found.etag in request.headers.get("If-None-Match", ""):
            return web.Response(status=304, headers=headers)
        body = found.body
        if found.gzipped is not None and _accepts_gzip(request):
            body = found.gzipped
            headers["Content-Encoding"] = "gzip"
        return web.Response(body=body, headers=headers)


def _accepts_gzip(request: web.Request) -> bool:
    for part in request.headers.get("Accept-Encoding", "").split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() == "gzip":
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False
