/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.tsx?$': ['@swc/jest'] },
  setupFiles: ['<rootDir>/test/support/polyfills.ts'],
  setupFilesAfterEnv: ['aws-cdk-lib/testhelpers/jest-autoclean'],
  testTimeout: 30000,
  // Jest defaults to cores - 1 workers (1 here). Most suites wait on sockets, sessions, polls and
  // child processes (state-machine-detached: ~22 s of wall for ~6 s of CPU), so a third worker fills
  // the two cores that two workers leave idle: 145 s → 120 s of jest on this 2-core machine.
  maxWorkers: 3,
};
