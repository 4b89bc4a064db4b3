#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { demoConfigFromContext } from '../lib/demo-config';
import { EcsExecRunnerDemoStack } from '../lib/ecs-exec-runner-demo-stack';
import { addAwsSolutionsChecks } from '../lib/nag';

const app = new App();
new EcsExecRunnerDemoStack(app, 'EcsExecRunnerDemo', { config: demoConfigFromContext(app.node) });
addAwsSolutionsChecks(app);
