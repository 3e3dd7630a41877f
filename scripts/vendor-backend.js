// Bundle the backend's database drivers (pg, mysql2) into one file,
// app/backend/vendor.js, so role images need no npm registry at build time
// and the backend's own source stays plain, readable JavaScript.
const esbuild = require("esbuild");
const path = require("path");

const root = path.join(__dirname, "..");
esbuild
  .build({
    stdin: {
      contents: "module.exports = { pg: require('pg'), mysql2: require('mysql2/promise') };",
      resolveDir: root,
      loader: "js",
    },
    bundle: true,
    platform: "node",
    target: "node18",
    format: "cjs",
    external: ["pg-native", "cloudflare:sockets"],
    legalComments: "none",
    outfile: path.join(root, "app", "backend", "vendor.js"),
    logLevel: "warning",
  })
  .catch(() => process.exit(1));
