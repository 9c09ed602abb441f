// The console's build: one page, hashed assets, written into the Python package so the wheel
// ships it (gateway/console_dist, served by the API at "/"). No plugin is needed for Preact:
// the JSX transform is told to import from preact (tsconfig's jsxImportSource).
import { defineConfig } from "vite";

export default defineConfig({
  base: "/",
  build: {
    outDir: "../gateway/console_dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    // The console must load offline and under a strict CSP: no inlined scripts or modules.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  server: { port: 25510, strictPort: true },
});
