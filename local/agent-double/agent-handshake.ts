/**
 * The agent's handshake state (amazon-ssm-agent datachannel.go PerformHandshake and its handlers,
 * ssm-protocol.md §4.2 and §9): with a KMS key, HandshakeRequest → HandshakeResponse (kms:Decrypt
 * of the client's data key with the agent's own encryption context) → EncChallengeRequest →
 * EncChallengeResponse → HandshakeComplete, each wait bounded by the handshake timeout. Without a
 * key, InteractiveCommands skips the handshake, but a client that answers anyway still hits the
 * agent's handlers, whose failure modes are kept: the handlers send on unbuffered channels, so an
 * answer nobody waits for blocks the agent's reader for good.
 */
import { randomBytes } from 'node:crypto';
import {
  GCM_NONCE_BYTES,
  HandshakeActionType,
  KMS_DATA_KEY_BYTES,
  PayloadType,
} from '../../lambda/ssm/constants';
import { type DirectionalKeys, openAesGcm, sealAesGcm, splitDataKey } from '../../lambda/ssm/crypto';
import { encodeChallenge } from '../../lambda/ssm/handshake';
import { decryptDataKey } from '../fake-kms';
import {
  buildHandshakeComplete,
  buildHandshakeRequest,
  KMS_CUSTOMER_MESSAGE,
  parseChallengeResponse,
  parseHandshakeResponse,
  parseKmsEncryptionResult,
} from './handshake-payloads';
import { OK, type ProcessResult, processingError, readerStopped } from './input-result';
import { CounterNonce } from './nonce';
import type { SessionObservation } from './observation';
import type { AgentKmsOptions } from './options';
import { sleep } from './timers';

/** 16 random bytes, base64: the HandshakeRequest's KMS `Challenge` (blockcipher.go). */
const RANDOM_CHALLENGE_BYTES = 16;
/** The encryption challenge's plaintext size (datachannel.go sendEncryptionChallenge). */
const ENCRYPTION_CHALLENGE_BYTES = 64;
/** Payload types the agent encrypts once the data key is set (§9.4). */
const ENCRYPTED_OUTPUT_TYPES: ReadonlySet<number> = new Set([
  PayloadType.Output,
  PayloadType.StdErr,
  PayloadType.ExitCode,
]);
const ACTION_STATUS_SUCCESS = 1;

const HANDSHAKE_TIMEOUT_TEXT =
  'Handshake timed out. Please ensure that you have the latest version of the session manager plugin.';
const CHALLENGE_TIMEOUT_TEXT = 'Timed out waiting for encryption challenge.';
const AUTH_FAILED_TEXT = 'Error decrypting encrypted text, cipher: message authentication failed';
const NIL_CIPHER_TEXT = 'runtime error: invalid memory address or nil pointer dereference';

export interface HandshakeHost {
  readonly sessionId: string;
  readonly agentVersion: string;
  readonly timeoutMs: number;
  readonly observation: SessionObservation;
  readonly signal: AbortSignal;
  sendStreamDataMessage(payloadType: number, payload: Buffer): void;
}

type Waiter = (() => void) | undefined;

export class AgentHandshake {
  private skipped = false;
  private complete = false;
  /** True from the start of PerformHandshake: the agent decrypts client Output from then on (§11.10). */
  private encryptionEnabled = false;
  private keys: DirectionalKeys | undefined;
  private readonly nonce = new CounterNonce();
  private randomChallenge = '';
  private encryptionChallenge: Buffer | undefined;
  private error: string | undefined;
  private responseWaiter: Waiter;
  private challengeWaiter: Waiter;

  constructor(
    private readonly host: HandshakeHost,
    private readonly kms: AgentKmsOptions | undefined,
  ) {}

  /** Whether client input other than handshake payloads is passed on (§4.2: else acked and dropped). */
  get isDone(): boolean {
    return this.skipped || this.complete;
  }

  /** SkipHandshake: InteractiveCommands without a KMS key (§4.1). */
  skip(): void {
    this.skipped = true;
    this.host.observation.handshake.state = 'skipped';
  }

  /** Output payloads are encrypted with K[0:32] and the counter nonce once the key is set. */
  encryptOutput(payloadType: number, payload: Buffer): Buffer {
    if (!this.encryptionEnabled || !ENCRYPTED_OUTPUT_TYPES.has(payloadType)) return payload;
    if (this.keys === undefined) throw new Error('encrypted output before the data key was set');
    return sealAesGcm(this.keys.agentToClient, payload, this.nonce.next());
  }

  /** Client Output input is decrypted with K[32:64] before anything else looks at it. */
  decryptInput(payload: Buffer, sequenceNumber: number): Buffer | ProcessResult {
    if (!this.encryptionEnabled) return payload;
    if (this.keys === undefined || payload.length < GCM_NONCE_BYTES) {
      return this.stopReader(
        'client Output input before the data key existed: the agent panics on a nil cipher',
      );
    }
    try {
      return openAesGcm(this.keys.clientToAgent, payload);
    } catch {
      return processingError(
        `Error decrypting stream data message sequence ${sequenceNumber}, err: ${AUTH_FAILED_TEXT}`,
      );
    }
  }

  /** PerformHandshake with encryption. Resolves to the agent's error text, or undefined on success. */
  async perform(): Promise<string | undefined> {
    const kms = this.kms;
    if (kms === undefined) return undefined;
    const observation = this.host.observation;
    const startedNs = process.hrtime.bigint();
    this.encryptionEnabled = true;
    this.randomChallenge = randomBytes(RANDOM_CHALLENGE_BYTES).toString('base64');
    observation.handshake.state = 'in-progress';
    this.host.sendStreamDataMessage(
      PayloadType.HandshakeRequest,
      buildHandshakeRequest(this.host.agentVersion, { keyId: kms.keyId, challenge: this.randomChallenge }),
    );
    const error = await this.performAfterRequest();
    if (error !== undefined) {
      observation.handshake.state = 'failed';
      observation.handshake.error = error;
      return error;
    }
    const elapsedNs = Number(process.hrtime.bigint() - startedNs);
    this.host.sendStreamDataMessage(
      PayloadType.HandshakeComplete,
      buildHandshakeComplete(elapsedNs, KMS_CUSTOMER_MESSAGE),
    );
    this.complete = true;
    observation.handshake.state = 'complete';
    return undefined;
  }

  /** handleHandshakeResponse. */
  onHandshakeResponse(payload: Buffer): ProcessResult {
    const parsed = parseHandshakeResponse(payload);
    if ('error' in parsed) {
      return processingError(
        `processing of HandshakeResponse message failed, Unmarshalling of HandshakeResponse message failed, ${parsed.error}`,
      );
    }
    for (const action of parsed.value.actions) {
      let error: string | undefined;
      if (action.actionStatus !== ACTION_STATUS_SUCCESS) {
        error = `${action.actionType} failed on client with status ${action.actionStatus} error: ${action.error}`;
      } else if (action.actionType === HandshakeActionType.KmsEncryption) {
        if (this.kms === undefined)
          return this.stopReader('KMSEncryption result without a KMS key: the agent panics on a nil cipher');
        error = this.finalizeKmsEncryption(this.kms, action.actionResult);
      }
      // The agent cancels the session on any failed action; the last error is the one it reports.
      if (error !== undefined) this.error = error;
    }
    this.host.observation.handshake.clientVersion = parsed.value.clientVersion;
    const waiter = this.responseWaiter;
    if (waiter === undefined) {
      return this.stopReader(
        'HandshakeResponse with no handshake waiting: the send on responseChan blocks forever',
      );
    }
    waiter();
    return OK;
  }

  /** handleEncryptionChallengeResponse. A wrong answer fails quietly: the agent then times out. */
  onChallengeResponse(payload: Buffer): ProcessResult {
    const keys = this.keys;
    if (keys === undefined) {
      return this.stopReader(
        'EncChallengeResponse before the data key existed: the agent panics on a nil cipher',
      );
    }
    const parsed = parseChallengeResponse(payload);
    if ('error' in parsed) {
      return processingError(
        `processing of EncryptionChallengeReponse message failed, Unmarshalling of EncryptionChallengeResponse message failed, ${parsed.error}`,
      );
    }
    if (parsed.value.length < GCM_NONCE_BYTES) {
      return this.stopReader('EncChallengeResponse shorter than a nonce: the agent panics slicing it');
    }
    let plaintext: Buffer;
    try {
      plaintext = openAesGcm(keys.clientToAgent, parsed.value);
    } catch {
      return this.failChallenge(AUTH_FAILED_TEXT);
    }
    if (this.encryptionChallenge === undefined || !plaintext.equals(this.encryptionChallenge)) {
      return this.failChallenge('Encryption challenge does not match!');
    }
    this.host.observation.handshake.challengeMatched = true;
    const waiter = this.challengeWaiter;
    if (waiter === undefined) {
      return this.stopReader(
        'EncChallengeResponse with no challenge waiting: the send on encryptionConfirmedChan blocks forever',
      );
    }
    waiter();
    return OK;
  }

  private async performAfterRequest(): Promise<string | undefined> {
    if (!(await this.waitFor('response'))) return HANDSHAKE_TIMEOUT_TEXT;
    if (this.error !== undefined) return this.error;
    const keys = this.keys;
    // The client accepted no KMSEncryption action; the agent dereferences its nil cipher here.
    if (keys === undefined) return NIL_CIPHER_TEXT;
    this.encryptionChallenge = randomBytes(ENCRYPTION_CHALLENGE_BYTES);
    this.host.sendStreamDataMessage(
      PayloadType.EncChallengeRequest,
      encodeChallenge(sealAesGcm(keys.agentToClient, this.encryptionChallenge, this.nonce.next())),
    );
    // A wrong answer never signals this wait (datachannel.go:892-916), so it ends in the timeout.
    if (!(await this.waitFor('challenge'))) return CHALLENGE_TIMEOUT_TEXT;
    return this.error;
  }

  /** finalizeKMSEncryption: kms:Decrypt with the agent's own view of the context (§9.2). */
  private finalizeKmsEncryption(kms: AgentKmsOptions, actionResult: unknown): string | undefined {
    const observation = this.host.observation;
    const parsed = parseKmsEncryptionResult(actionResult);
    if ('error' in parsed) return parsed.error;
    const { cipherTextKey, challengeAcknowledgement } = parsed.value;
    observation.handshake.challengeAcknowledged = challengeAcknowledgement;
    if (kms.requireChallengeResponse === true && !challengeAcknowledgement) {
      return 'client does not support required encryption context random challenge';
    }
    const context: Record<string, string> = {
      'aws:ssm:SessionId': this.host.sessionId,
      'aws:ssm:TargetId': kms.targetId,
    };
    if (challengeAcknowledgement) context['aws:ssm:RandomChallenge'] = this.randomChallenge;
    let plaintext: Buffer;
    try {
      plaintext = decryptDataKey(cipherTextKey, context, kms.keyId);
    } catch (err) {
      observation.dataKeyContextMatched = false;
      const name = err instanceof Error ? err.name : 'Error';
      const message = err instanceof Error ? err.message : String(err);
      return `Fetching data key failed: Unable to retrieve data key, ${name}: ${message}`;
    }
    observation.dataKeyContextMatched = true;
    if (plaintext.length !== KMS_DATA_KEY_BYTES) {
      return `Fetching data key failed: Error creating NewCipher, crypto/aes: invalid key size ${Math.max(0, plaintext.length - KMS_DATA_KEY_BYTES / 2)}`;
    }
    this.keys = splitDataKey(plaintext);
    return undefined;
  }

  private failChallenge(error: string): ProcessResult {
    this.error = error;
    this.host.observation.handshake.challengeMatched = false;
    return processingError(`processing of EncryptionChallengeReponse message failed, ${error}`);
  }

  /** Waits for the handler to signal the (unbuffered) channel; false on timeout or shutdown. */
  private async waitFor(what: 'response' | 'challenge'): Promise<boolean> {
    let signalled = false;
    const timeout = new AbortController();
    const signalledPromise = new Promise<void>((resolve) => {
      const waiter = (): void => {
        signalled = true;
        resolve();
      };
      if (what === 'response') this.responseWaiter = waiter;
      else this.challengeWaiter = waiter;
    });
    const stop = (): void => timeout.abort();
    this.host.signal.addEventListener('abort', stop, { once: true });
    await Promise.race([signalledPromise, sleep(this.host.timeoutMs, timeout.signal)]);
    timeout.abort();
    this.host.signal.removeEventListener('abort', stop);
    if (what === 'response') this.responseWaiter = undefined;
    else this.challengeWaiter = undefined;
    return signalled && !this.host.signal.aborted;
  }

  private stopReader(reason: string): ProcessResult {
    this.host.observation.readerStopped = reason;
    return readerStopped(reason);
  }
}
