/**
 * The scripted container (local/agent-double/scripted-shell.ts): it recognises the runner's wrapper
 * in the argv the agent's shlex split gives, answers the command and prints the wrapper's marker.
 */
import { buildCommand } from '../../lambda/ssm/command';
import { EXIT_MARKER_PREFIX } from '../../lambda/ssm/exit-marker';
import { HEADER_PREFIX } from '../../lambda/ssm/transfer/header';
import { fleetShell, scriptedExec } from '../../local/agent-double/scripted-shell';
import { shlexSplit } from '../../local/shlex';

const NONCE = '0123456789abcdef0123456789abcdef';
const echoBack = (command: string) => ({ output: `ran ${command}\n`, exitCode: 7 });
const HEADER = { output: `${HEADER_PREFIX}${NONCE}:plain\n` };

describe('scriptedExec', () => {
  it.each([
    ['a pipe (tty false)', false],
    ['a terminal (tty true)', true],
  ])('answers the runner wrapper through %s and prints its marker last', (_name, tty) => {
    const { command } = buildCommand("echo 'it''s'; exit 7", {
      shell: true,
      tty,
      nonce: NONCE,
      stdin: 'secret-stdin',
    });

    // stdin travels on the data channel, never in the command line the container sees.
    expect(command).not.toContain('secret-stdin');
    expect(scriptedExec(shlexSplit(command), echoBack)).toEqual([
      HEADER,
      { output: "ran echo 'it''s'; exit 7\n" },
      { output: `\n${EXIT_MARKER_PREFIX}${NONCE}:7\n` },
    ]);
  });

  it('prints no marker for a plain sh -c or a raw command, as a real container would', () => {
    expect(scriptedExec(['/bin/sh', '-c', 'hostname'], echoBack)).toEqual([{ output: 'ran hostname\n' }]);
    expect(scriptedExec(['uname', '-a'], echoBack)).toEqual([{ output: 'ran uname -a\n' }]);
  });

  it('runs for the answer’s duration before printing, and keeps statuses in 0-255', () => {
    const { command } = buildCommand('slow', { shell: true, tty: false, nonce: NONCE });
    expect(
      scriptedExec(shlexSplit(command), () => ({ output: 'late\n', exitCode: 256 + 3, durationMs: 50 })),
    ).toEqual([
      HEADER,
      { delayMs: 50 },
      { output: 'late\n' },
      { output: `\n${EXIT_MARKER_PREFIX}${NONCE}:3\n` },
    ]);
  });

  it('fails an empty argv the way the agent does', () => {
    expect(() => scriptedExec([], echoBack)).toThrow('index out of range [0] with length 0');
  });
});

describe('fleetShell', () => {
  const shell = fleetShell('ip-10-0-1-2.ec2.internal');

  it.each([
    ['hostname', { output: 'ip-10-0-1-2.ec2.internal\n', exitCode: 0 }],
    ['echo ready', { output: 'ready\n', exitCode: 0 }],
    ["echo 'quoted words'", { output: 'quoted words\n', exitCode: 0 }],
    ['hostname; exit 3', { output: 'ip-10-0-1-2.ec2.internal\n', exitCode: 3 }],
    ['exit 0', { output: '', exitCode: 0 }],
    ['false', { output: '', exitCode: 1 }],
    ['df -h /', { output: 'sh: 1: df: not found\n', exitCode: 127 }],
  ])('answers %j', (command, answer) => {
    expect(shell(command)).toEqual(answer);
  });
});
