#!/usr/bin/env node
// The CLI is TypeScript run through tsx (a runtime dependency), so it needs no build step.
require('tsx/cjs');
require('../cli/main.ts').runCli();
