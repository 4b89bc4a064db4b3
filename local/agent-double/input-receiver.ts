/**
 * The agent's receive rules for the client's input_stream_data (amazon-ssm-agent datachannel.go
 * handleStreamDataMessage / processIncomingMessageBufferItems, ssm-protocol.md §5.3):
 * - seq == expected: process, and only if that succeeded ack it, advance, drain buffered successors;
 * - seq > expected: ack it and keep it, if the incoming buffer has room;
 * - seq < expected: a duplicate, acked again and otherwise ignored.
 */
import type { Frame } from '../../lambda/ssm/codec';
import type { ProcessResult } from './input-result';

export interface InputReceiverHost {
  processStreamDataMessage(frame: Frame): ProcessResult;
  sendAcknowledgeMessage(frame: Frame): void;
  /** A message the agent could not process, with its reason. */
  reportFailure(message: string): void;
}

export class InputReceiver {
  private expectedSequenceNumber = 0;
  private readonly incoming = new Map<number, Frame>();

  constructor(
    private readonly host: InputReceiverHost,
    private readonly incomingBufferCapacity: number,
  ) {}

  receive(frame: Frame): void {
    const sequenceNumber = frame.sequenceNumber;
    if (sequenceNumber === this.expectedSequenceNumber) {
      const result = this.host.processStreamDataMessage(frame);
      // ErrHandlerNotReady and processing errors leave the message unacked and unconsumed.
      if (result.kind !== 'ok') {
        if (result.kind === 'error') this.host.reportFailure(result.message);
        return;
      }
      this.host.sendAcknowledgeMessage(frame);
      this.expectedSequenceNumber++;
      this.processIncomingMessageBufferItems();
    } else if (sequenceNumber > this.expectedSequenceNumber) {
      if (this.incoming.size < this.incomingBufferCapacity) {
        this.host.sendAcknowledgeMessage(frame);
        this.incoming.set(sequenceNumber, frame);
      }
    } else {
      this.host.sendAcknowledgeMessage(frame);
    }
  }

  /** Buffered successors were acked on arrival; a failure stops the drain and leaves them stuck. */
  private processIncomingMessageBufferItems(): void {
    for (;;) {
      const frame = this.incoming.get(this.expectedSequenceNumber);
      if (frame === undefined) return;
      const result = this.host.processStreamDataMessage(frame);
      if (result.kind !== 'ok') {
        const reason = result.kind === 'error' ? result.message : result.kind;
        this.host.reportFailure(`buffered input ${frame.sequenceNumber}: ${reason}`);
        return;
      }
      this.incoming.delete(this.expectedSequenceNumber);
      this.expectedSequenceNumber++;
    }
  }
}
