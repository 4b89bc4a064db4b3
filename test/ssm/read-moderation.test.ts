import { READ_PAUSE_MS, ReadModerator, STREAMING_BYTES } from '../../lambda/ssm/read-moderation';

/** A reader, a timer and a clock the test drives by hand. */
function harness(options: { pauseMs?: number } = {}) {
  const events: string[] = [];
  const timers: { callback: () => void; delayMs: number; cancelled: boolean }[] = [];
  const clock = { nowMs: 0 };
  const moderator = new ReadModerator(
    { pause: () => events.push('pause'), resume: () => events.push('resume') },
    {
      ...options,
      now: () => clock.nowMs,
      schedule: (callback, delayMs) => {
        const timer = { callback, delayMs, cancelled: false };
        timers.push(timer);
        return () => {
          timer.cancelled = true;
        };
      },
    },
  );
  /** Fires the pending resume, `delayMs` later on the clock. */
  const fire = (): void => {
    const timer = timers.shift();
    if (timer === undefined) throw new Error('no timer pending');
    clock.nowMs += timer.delayMs;
    if (!timer.cancelled) timer.callback();
  };
  return { moderator, events, timers, clock, fire };
}

const FRAME_BYTES = 1_140;

describe('ReadModerator', () => {
  it('leaves a trickling socket unread for one pause after a read, then reads it again', () => {
    const h = harness();

    h.moderator.afterRead(FRAME_BYTES);

    expect(h.events).toEqual(['pause']);
    expect(h.timers.map((timer) => timer.delayMs)).toEqual([READ_PAUSE_MS]);
    expect(h.moderator.paused).toBe(true);
    h.fire();
    expect(h.events).toEqual(['pause', 'resume']);
    expect(h.moderator.paused).toBe(false);
  });

  it('keeps moderating at the real agent’s pace: one read per pause, holding the frames sent meanwhile', () => {
    const h = harness();
    // ~0.8 MB/s: about 7 frames arrive during each 10 ms pause and are read at once.
    for (let cycle = 0; cycle < 20; cycle++) {
      h.moderator.afterRead(cycle === 0 ? FRAME_BYTES : 7 * FRAME_BYTES);
      h.fire();
    }

    expect(h.events.filter((event) => event === 'pause')).toHaveLength(20);
  });

  it('pauses once per cycle however many reads the cycle has', () => {
    const h = harness();
    h.moderator.afterRead(FRAME_BYTES);
    h.moderator.afterRead(FRAME_BYTES);

    expect(h.events).toEqual(['pause']);
    expect(h.timers).toHaveLength(1);
  });

  it('does not pause a socket that streams faster than any agent pace', () => {
    const h = harness();

    h.moderator.afterRead(64 * 1024);
    h.clock.nowMs += 1;
    h.moderator.afterRead(2_000);

    expect(h.events).toEqual([]);
    // Once the stream slows to a trickle, moderation comes back.
    h.clock.nowMs += 10 * READ_PAUSE_MS;
    h.moderator.afterRead(FRAME_BYTES);
    expect(h.events).toEqual(['pause']);
  });

  it('counts every read of a burst, paused or not, towards streaming', () => {
    const h = harness();
    const read = Math.ceil(STREAMING_BYTES / 3);
    h.moderator.afterRead(read);
    h.moderator.afterRead(read); // libuv delivered a second read before the pause took hold
    h.fire();

    // Two thirds of the limit decayed by e over one pause, plus a third: still over the limit.
    h.moderator.afterRead(Math.ceil(STREAMING_BYTES * 0.8));

    expect(h.events).toEqual(['pause', 'resume']);
  });

  it('never pauses with pauseMs 0', () => {
    const h = harness({ pauseMs: 0 });
    h.moderator.afterRead(1);
    expect(h.events).toEqual([]);
  });

  it('forgets a pending resume when stopped', () => {
    const h = harness();
    h.moderator.afterRead(FRAME_BYTES);

    h.moderator.stop();
    h.fire();

    expect(h.events).toEqual(['pause']);
    expect(h.moderator.paused).toBe(false);
  });
});
