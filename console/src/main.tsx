import { render } from "preact";
import { App } from "./App";
import { prefetch } from "./api/client";
import { listVariables } from "./api/live";
import { rememberedGroup } from "./state";
import "./styles.css";

// The Deployments page's data, asked for while the session is being checked (see prefetch).
const group = rememberedGroup();
if (location.pathname === "/" && group !== null) {
  prefetch("Deployments", listVariables(group));
  prefetch("License");
}

const root = document.getElementById("app");
if (root !== null) render(<App />, root);
