import { type App, Stack, Validations } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DemoContext, demoConfigFromContext } from '../../lib/demo-config';
import { EcsExecRunner } from '../../lib/ecs-exec-runner';
import { EcsExecRunnerDemoStack } from '../../lib/ecs-exec-runner-demo-stack';
import { CLUSTER_A, CLUSTER_B, EXEC_KEY, fastApp } from './helpers';

/** cdk-nag's AwsSolutions pack over the whole app: every finding that is not acknowledged. */
function unacknowledged(app: App): string[] {
  const report = new AwsSolutionsChecks(app).validateScope(app);
  return report.violations.flatMap((v) =>
    v.violatingResources.map((r) => `${v.ruleName} @ ${r.constructPath}`),
  );
}

/** Every AwsSolutions acknowledgement in the app, with where it sits and its reason. */
function acknowledgements(app: App): Array<{ path: string; id: string; reason: string }> {
  return app.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) => Object.entries(entry.data as Record<string, string>))
      // Recorded as "Annotation::<id>" (an id without a known plugin prefix); cdk-nag strips that.
      .map(([id, reason]) => [id.replace(/^annotation::/i, ''), reason] as const)
      .filter(([id]) => id.startsWith('AwsSolutions-'))
      .map(([id, reason]) => ({ path: construct.node.path, id, reason })),
  );
}

function demoApp(context: Record<string, unknown> = {}): App {
  const app = fastApp({ context });
  new EcsExecRunnerDemoStack(app, 'Demo', { config: demoConfigFromContext(app.node) });
  return app;
}

describe('cdk-nag AwsSolutions', () => {
  it('finds nothing unacknowledged in the demo stack', () => {
    expect(unacknowledged(demoApp())).toEqual([]);
  });

  it('finds nothing unacknowledged with existing clusters and key', () => {
    const app = demoApp({
      [DemoContext.ExistingClusterArns]: [CLUSTER_A, CLUSTER_B],
      [DemoContext.ExecKmsKeyArn]: EXEC_KEY,
      [DemoContext.DefaultService]: 'api',
      [DemoContext.Schedules]: [
        { name: 'n', expression: 'rate(1 day)', target: 'fan-out', event: { command: 'ls' } },
      ],
    });
    expect(unacknowledged(app)).toEqual([]);
  });

  it('finds nothing unacknowledged when the runner is dropped into a user stack', () => {
    const app = fastApp();
    const stack = new Stack(app, 'UserStack');
    new EcsExecRunner(stack, 'Runner', {
      clusters: [ecs.Cluster.fromClusterArn(stack, 'Cluster', CLUSTER_A)],
    });
    expect(unacknowledged(app)).toEqual([]);
  });

  it('acknowledges each finding for one exact resource, with a specific reason', () => {
    const acks = acknowledgements(demoApp());
    expect(acks.length).toBeGreaterThan(10);
    for (const { id, reason } of acks) {
      // A bare "AwsSolutions-IAM5" would hide every wildcard; each names its resource.
      if (id.startsWith('AwsSolutions-IAM5')) expect(id).toMatch(/^AwsSolutions-IAM5\[Resource::.+\]$/);
      expect(reason.length).toBeGreaterThan(40);
    }
    // No acknowledgement sits on a whole stack or the app.
    expect(acks.filter((a) => !a.path.includes('/'))).toEqual([]);
    // Wildcard actions are never acknowledged: there are none.
    expect(acks.filter((a) => a.id.includes('Action::'))).toEqual([]);
  });

  it('fails synth-time validation when a new wildcard appears', () => {
    const app = fastApp();
    const stack = new Stack(app, 'UserStack');
    const runner = new EcsExecRunner(stack, 'Runner', {
      clusters: [ecs.Cluster.fromClusterArn(stack, 'Cluster', CLUSTER_A)],
    });
    runner.function.role?.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [runner.outputBucket.arnForObjects('*')],
      }),
    );
    expect(unacknowledged(app)).toEqual([
      expect.stringMatching(
        /^AwsSolutions-IAM5\[Resource::<RunnerOutputBucket[0-9A-F]{8}\.Arn>\/\*\] @ UserStack\/Runner\/FunctionRole/,
      ),
    ]);
  });
});
