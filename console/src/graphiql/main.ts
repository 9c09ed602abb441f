/**
 * GraphiQL, built from npm like the console and served by the API on a browser's
 * `GET /graphql` (dev mode, or when enabled). It posts to `/graphql` with the session cookie
 * and the CSRF header, and runs subscriptions over the same graphql-transport-ws endpoint the
 * console uses. Its editor's workers are bundled too: nothing loads from another host.
 */
import "graphiql/setup-workers/vite";
import "graphiql/style.css";
import "./graphiql.css";
import { createGraphiQLFetcher } from "@graphiql/toolkit";
import { GraphiQL } from "graphiql";
import { createElement } from "react";
import { createRoot } from "react-dom/client";
const CSRF_HEADER = "X-Model-Gateway-CSRF"; // as the console sends it (api/client.ts)

const scheme = location.protocol === "https:" ? "wss:" : "ws:";
const fetcher = createGraphiQLFetcher({
  url: "/graphql",
  subscriptionUrl: `${scheme}//${location.host}/graphql`,
  headers: { [CSRF_HEADER]: "1" },
});
const root = document.getElementById("graphiql");
if (root !== null) createRoot(root).render(createElement(GraphiQL, { fetcher }));
