#!/usr/bin/env node
// Installed from npm: the compiled CLI (dist/cli/ecs-exec.cjs, built by `npm run build`, its AWS SDK
// clients inside). In this repository: the TypeScript sources through tsx (a devDependency), so a
// change to cli/ needs no build step and a stale dist/ is never what runs.
const { existsSync } = require('node:fs');
const path = require('node:path');

const source = path.join(__dirname, '..', 'cli', 'main.ts');
if (existsSync(source)) {
  require('tsx/cjs');
  require(source).runCli();
} else {
  require('../dist/cli/ecs-exec.cjs').runCli();
}
