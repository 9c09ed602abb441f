// The console's build: the console page and GraphiQL's page, hashed assets, written into the
// Python package so the wheel ships them (gateway/console_dist, served by the API at "/" and
// on a browser's GET /graphql). No plugin is needed for Preact: the JSX transform is told to
// import from preact (tsconfig's jsxImportSource); GraphiQL's entry uses React without JSX.
//
// The build also copies the console's GraphQL operations (src/api/operations.graphql) to
// console_dist/operations.graphql: the API runs the first page's queries from that file and
// puts their answers into the page it serves (gateway/api/firstpage.py), so the operations
// stay in one place.
import { readFileSync } from "node:fs";
import { defineConfig, type Plugin } from "vite";

function operationsFile(): Plugin {
  return {
    name: "model-gateway-operations",
    generateBundle() {
      const source = readFileSync(new URL("./src/api/operations.graphql", import.meta.url), "utf8");
      this.emitFile({ type: "asset", fileName: "operations.graphql", source });
    },
  };
}

export default defineConfig({
  base: "/",
  plugins: [operationsFile()],
  build: {
    outDir: "../gateway/console_dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    // The console must load offline and under a strict CSP: no inlined scripts or modules.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    // GraphiQL's editor (monaco) is megabytes; it loads only on its own page, never the console's.
    chunkSizeWarningLimit: 4096,
    rollupOptions: {
      input: { index: "index.html", graphiql: "graphiql.html" },
      onLog(level, log, handler) {
        // React packages mark modules "use client" (for server rendering); it means nothing here.
        if (log.code === "MODULE_LEVEL_DIRECTIVE") return;
        handler(level, log);
      },
    },
  },
  server: { port: 25510, strictPort: true },
});
