#!/usr/bin/env node
// npm bin entry: runs the compiled CLI (npm ci builds it through `prepare`).
const path = require("path");
const fs = require("fs");
const main = path.join(__dirname, "..", "dist", "cli", "main.js");
if (!fs.existsSync(main)) {
  process.stderr.write("drills: the CLI is not built yet. Run `npm ci` (or `npm run build`) in " + path.dirname(__dirname) + " first.\n");
  process.exit(1);
}
require(main).main(process.argv);
