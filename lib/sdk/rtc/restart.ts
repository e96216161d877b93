/**
 * Keeps a call alive across network trouble: a connection that stays
 * `disconnected` for a grace period, or goes `failed`, gets an ICE restart;
 * the call ends only when restarts do not bring it back.
 *
 * @module
 */

/** How long the watchdog waits, in milliseconds. */
export const ICE_RESTART_DEFAULTS = {
  /** `disconnected` for this long triggers a restart. */
  disconnectedGrace: 2_500,
  /** A restart that has not connected within this long counts as failed. */
  restartTimeout: 12_000,
  /** Restarts in a row before the call is given up. */
  maxAttempts: 2,
} as const;

/** The watchdog's state. */
export enum IceHealth {
  /** Connected, or not connected yet for the first time. */
  Healthy = "healthy",
  /** Disconnected; waiting out the grace period. */
  Waiting = "waiting",
  /** An ICE restart is under way. */
  Restarting = "restarting",
  /** Stopped (the call ended). */
  Stopped = "stopped",
}

/** Options of {@linkcode IceWatchdog}. */
export interface IceWatchdogOptions {
  /** Called when restarting did not help; the call should end. */
  onGiveUp: (reason: string) => void;
  /** Called at each restart (for logs and tests). */
  onRestart?: (attempt: number) => void;
  timeouts?: Partial<{ -readonly [K in keyof typeof ICE_RESTART_DEFAULTS]: number }>;
}

/**
 * Watches `pc.connectionState` and restarts ICE when the path is lost.
 *
 * @example
 * ```ts ignore
 * const watchdog = new IceWatchdog(pc, { onGiveUp: (why) => call.end(why) });
 * // …
 * watchdog.stop();
 * ```
 */
export class IceWatchdog {
  #health = IceHealth.Healthy;
  #attempts = 0;
  #restarts = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #listener = () => this.#check();
  readonly #timeouts: { disconnectedGrace: number; restartTimeout: number; maxAttempts: number };

  constructor(readonly pc: RTCPeerConnection, readonly options: IceWatchdogOptions) {
    this.#timeouts = { ...ICE_RESTART_DEFAULTS, ...options.timeouts };
    pc.addEventListener("connectionstatechange", this.#listener);
  }

  /** The watchdog's state. */
  get health(): IceHealth {
    return this.#health;
  }

  /** Every ICE restart this watchdog has made. */
  get restarts(): number {
    return this.#restarts;
  }

  /** Restarts done since the last time the call was connected. */
  get attempts(): number {
    return this.#attempts;
  }

  #set(health: IceHealth, timer?: () => void, ms = 0): void {
    clearTimeout(this.#timer);
    this.#timer = timer ? setTimeout(timer, ms) : undefined;
    this.#health = health;
  }

  #check(): void {
    if (this.#health === IceHealth.Stopped) return;
    switch (this.pc.connectionState) {
      case "connected":
        this.#attempts = 0;
        return this.#set(IceHealth.Healthy);
      case "disconnected":
        if (this.#health === IceHealth.Healthy) {
          this.#set(IceHealth.Waiting, () => this.#restart(), this.#timeouts.disconnectedGrace);
        }
        return;
      case "failed":
        if (this.#health !== IceHealth.Restarting) this.#restart();
        return;
      case "closed":
        return this.stop();
    }
  }

  #restart(): void {
    if (this.#health === IceHealth.Stopped) return;
    if (this.#attempts >= this.#timeouts.maxAttempts) {
      this.stop();
      return this.options.onGiveUp(
        `The connection was lost and ${this.#attempts} ICE restart(s) did not bring it back.`,
      );
    }
    this.#attempts++;
    this.#restarts++;
    this.#set(IceHealth.Restarting, () => this.#restart(), this.#timeouts.restartTimeout);
    try {
      this.options.onRestart?.(this.#attempts);
      this.pc.restartIce();
    } catch (error) {
      console.warn("parley: restartIce failed", error);
    }
  }

  /** Stops watching. Idempotent. */
  stop(): void {
    this.#set(IceHealth.Stopped);
    this.pc.removeEventListener("connectionstatechange", this.#listener);
  }
}
