// Long synchronous loops (decoding a 100k-key snapshot) give the event loop a turn every few ms, so
// that the engine's lease keepalives go out meanwhile (engine/leader.ts fences a leader whose
// keepalives are late; a 100k snapshot decoded in one go held the loop for seconds at load).

import { setImmediate as nextTurn } from 'node:timers/promises';

export class TimeSlice {
  private started = performance.now();

  constructor(private readonly sliceMs = 20) {}

  /** True when this slice is used up: the caller awaits turn() before going on. */
  due(): boolean {
    return performance.now() - this.started >= this.sliceMs;
  }

  async turn(): Promise<void> {
    await nextTurn();
    this.started = performance.now();
  }
}
