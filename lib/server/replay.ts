/**
 * What a connection has sent and its client may not have received: the
 * frames kept for a resume. The client counts the frames it receives and
 * reports the count (in each pong, and when it resumes); the log forgets
 * what was acknowledged and replays the rest. Bounded in frames and bytes.
 *
 * @module
 */

/**
 * The sent frames of one connection since its client's last acknowledgement.
 *
 * @example
 * ```ts
 * import { ReplayLog } from "./replay.ts";
 * const log = new ReplayLog({ maxFrames: 100, maxBytes: 65536 });
 * log.record('{"type":"message"}');
 * log.since(0); // ['{"type":"message"}']
 * log.acknowledge(1);
 * log.since(1); // []
 * ```
 */
export class ReplayLog {
  #texts: string[] = [];
  #head = 0;
  #bytes = 0;
  /** The count of the first kept frame: frames before it are gone. */
  #first = 0;
  /** How many frames were sent in all. */
  #sent = 0;

  constructor(readonly limits: { maxFrames: number; maxBytes: number }) {}

  /** How many frames were sent in all. */
  get sent(): number {
    return this.#sent;
  }

  /** Keeps a sent frame, forgetting the oldest ones past the limits. */
  record(text: string): void {
    this.#texts.push(text);
    this.#bytes += text.length;
    this.#sent++;
    while (
      this.#texts.length - this.#head > this.limits.maxFrames || this.#bytes > this.limits.maxBytes
    ) {
      this.#dropOldest();
    }
  }

  /** The client has received `received` frames: forget those. */
  acknowledge(received: number): void {
    while (this.#first < Math.min(received, this.#sent)) this.#dropOldest();
  }

  /**
   * The frames after the first `received`, or null when some of them are no
   * longer kept (or the count is impossible): the session cannot resume.
   */
  since(received: number): string[] | null {
    if (received > this.#sent || received < this.#first) return null;
    return this.#texts.slice(this.#head + (received - this.#first));
  }

  /** Starts over at `count` frames (a connection taken over from a dead isolate). */
  restartAt(count: number): void {
    this.#texts = [];
    this.#head = 0;
    this.#bytes = 0;
    this.#first = this.#sent = count;
  }

  #dropOldest(): void {
    this.#bytes -= this.#texts[this.#head].length;
    this.#head++;
    this.#first++;
    // Compact now and then instead of shifting on every drop.
    if (this.#head > 1024 && this.#head * 2 > this.#texts.length) {
      this.#texts = this.#texts.slice(this.#head);
      this.#head = 0;
    }
  }
}
