/**
 * The integration test's snapshot, checked offline (here and in CI): what `npm run integ` would
 * deploy. After a deliberate change to the demo stack, the runner or the assertions, regenerate it
 * with `npx jest test/integ/runner-integ-app.test.ts -u` and review the diff.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { ExecErrorName } from '../../lambda/contract';
import { fastApp } from '../cdk/helpers';
import {
  ASSERTION_STACK_NAME,
  buildRunnerIntegApp,
  FAILING_EXIT_CODE,
  INTEG_STACK_NAME,
  SUCCESS_COMMAND,
} from './runner-integ-app';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** 64 hex digits: asset hashes (S3 keys, image tags, custom-resource salts of CDK's own). */
const ASSET_HASH = /[0-9a-f]{64}/g;

/**
 * What differs between two synths of the same code on two machines: asset hashes (they cover the
 * bundled code, which depends on the build machine) and the assertions' `salt` (Date.now(), so
 * that every deploy re-runs them).
 */
function normalised(value: Json): Json {
  if (typeof value === 'string') return value.replace(ASSET_HASH, '<asset-hash>');
  if (Array.isArray(value)) return value.map(normalised);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [key, key === 'salt' ? '<salt>' : normalised(inner)]),
    );
  }
  return value;
}

const { testStack, assertionStack } = buildRunnerIntegApp(fastApp());
const testTemplate = Template.fromStack(testStack);
const assertionTemplate = Template.fromStack(assertionStack);

describe('integration test app (snapshot of what `npm run integ` deploys)', () => {
  it('names its two stacks for the deploy script', () => {
    expect([testStack.stackName, assertionStack.stackName]).toEqual([INTEG_STACK_NAME, ASSERTION_STACK_NAME]);
  });

  it('matches the committed snapshot of the test stack', () => {
    expect(normalised(testTemplate.toJSON() as Json)).toMatchSnapshot();
  });

  it('matches the committed snapshot of the assertion stack', () => {
    expect(normalised(assertionTemplate.toJSON() as Json)).toMatchSnapshot();
  });

  it('leaves nothing behind on destroy (no retained resources in the test stack)', () => {
    const retained = Object.entries(
      testTemplate.toJSON().Resources as Record<string, { DeletionPolicy?: string }>,
    )
      .filter(([, resource]) => resource.DeletionPolicy !== undefined && resource.DeletionPolicy !== 'Delete')
      .map(([id]) => id);
    expect(retained).toEqual([]);
  });

  it('starts the run-one state machine with the real command and expects a NonZeroExit', () => {
    const calls = assertionTemplate.findResources('Custom::DeployAssert@SdkCallStepFunctionsstartExecution');
    const inputs = Object.values(calls).map(
      (call) =>
        JSON.parse(
          (call as { Properties: { parameters: { input: string } } }).Properties.parameters.input,
        ) as string,
    );
    expect(inputs.map((input) => JSON.parse(input).command)).toEqual([
      SUCCESS_COMMAND,
      expect.stringContaining(`exit ${FAILING_EXIT_CODE}`),
    ]);
    expect(JSON.stringify(assertionTemplate.toJSON())).toContain(
      `\\"error\\":\\"${ExecErrorName.NonZeroExit}\\"`,
    );
  });
});
