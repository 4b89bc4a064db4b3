#!/usr/bin/env node
/**
 * Entry point of the integration test (the `integ.*.ts` naming of CDK integration tests). Deployed
 * and destroyed by `npm run integ` (scripts/integ.ts); see README "Integration test on a real account".
 */
import { App } from 'aws-cdk-lib';
import { buildRunnerIntegApp } from './runner-integ-app';

buildRunnerIntegApp(new App());
