// Bundle the dashboard's browser code into the Python package's static folder (git-ignored).
import { build } from "esbuild";

await build({
  entryPoints: ["src/dashboard.js"],
  outfile: "../legation/web/static/build/dashboard.js",
  bundle: true,
  minify: true,
  sourcemap: false,
  format: "iife",
  target: ["es2020"],
  loader: { ".json": "json" },
  legalComments: "linked",
  logLevel: "info",
});
