import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { Construct } from 'constructs';

/**
 * Runs cdk-nag's AwsSolutions pack at synth: any finding that is not acknowledged (with a reason,
 * next to the resource it concerns) fails `cdk synth`.
 */
export function addAwsSolutionsChecks(app: Construct): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
}
