import { render } from "preact";
import { App } from "./App";
import { prefetch, seedAnswers, type FirstAnswer } from "./api/client";
import { listVariables } from "./api/live";
import { seedSession, type Session } from "./api/session";
import { rememberedGroup } from "./state";
import "./styles.css";

interface FirstData {
  session: Session;
  queries: FirstAnswer[];
}

// A signed-in user's page arrives with its first answers inside (the server's
// gateway/api/firstpage.py): the first render needs no request. Otherwise the Deployments
// page's data is asked for while the session is being checked (see prefetch).
const block = document.getElementById("mg-first");
if (block?.textContent) {
  const first = JSON.parse(block.textContent) as FirstData;
  seedSession(first.session);
  seedAnswers(first.queries);
} else {
  const group = rememberedGroup();
  if (location.pathname === "/" && group !== null) {
    prefetch("Deployments", listVariables(group));
    prefetch("License");
  }
}

const root = document.getElementById("app");
if (root !== null) render(<App />, root);
