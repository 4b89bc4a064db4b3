/**
 * The AWS SDK prints an eight-line NodeVersionSupportWarning on every run under Node 20 (future SDK
 * releases will need Node 22). This project supports Node 20 (package.json engines) and pins its
 * SDK version, so for its command-line tools the notice is noise in the stderr a user reads for
 * errors. Only that warning is dropped; every other warning is emitted as usual.
 */
const SDK_NODE_VERSION_WARNING = 'NodeVersionSupportWarning';

let installed = false;

export function quietSdkNodeVersionWarning(): void {
  if (installed) return;
  installed = true;
  const emitWarning = process.emitWarning.bind(process);
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]): void => {
    const text = typeof warning === 'string' ? warning : warning.message;
    if (text.startsWith(SDK_NODE_VERSION_WARNING)) return;
    (emitWarning as (warning: string | Error, ...args: unknown[]) => void)(warning, ...rest);
  }) as typeof process.emitWarning;
}
