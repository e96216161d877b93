/**
 * coturn for the tests, on loopback with the TURN REST API shared secret
 * (shared/docs/TESTING.md, "TURN: coturn"). Stopped by its own pid only.
 *
 * @example
 * ```ts ignore
 * await using turn = await startTurn({ secret: "s" });
 * const url = `turn:127.0.0.1:${turn.port}?transport=udp`;
 * ```
 *
 * @module
 */
import { freePort, waitFor } from "./server.ts";

/** Whether coturn's `turnserver` is installed (it answers `--version`). */
export async function hasTurnserver(): Promise<boolean> {
  try {
    const { success } = await new Deno.Command("turnserver", {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return false;
  }
}

/**
 * coturn on 127.0.0.1:`port` (TURN REST secret `secret`), relaying on
 * 127.0.0.1, no TLS, no CLI. Also a plain STUN server.
 */
export function spawnTurn(port: number, secret = "parley-test"): Deno.ChildProcess {
  return new Deno.Command("turnserver", {
    args: [
      "--listening-ip=127.0.0.1",
      `--listening-port=${port}`,
      "--relay-ip=127.0.0.1",
      "--use-auth-secret",
      `--static-auth-secret=${secret}`,
      "--realm=parley",
      "--allow-loopback-peers",
      "--no-cli",
      "--no-tls",
      "--no-dtls",
      "--log-file=stdout",
      `--pidfile=/tmp/parley-turn-${port}.pid`,
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
}

/** A running coturn. */
export interface RunningTurn extends AsyncDisposable {
  port: number;
  secret: string;
  /** SIGKILL by pid, then wait; idempotent. */
  stop(): Promise<void>;
}

/** Starts coturn on a free port and waits until it accepts TCP connections. */
export async function startTurn(options: { secret?: string } = {}): Promise<RunningTurn> {
  const secret = options.secret ?? "parley-test";
  const port = freePort();
  const child = spawnTurn(port, secret);
  let stopping: Promise<void> | undefined;
  const stop = () =>
    stopping ??= (async () => {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
      await child.status;
    })();
  try {
    await waitFor(async () => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return true;
    }, { timeout: 10_000, message: `coturn listening on 127.0.0.1:${port}` });
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, secret, stop, [Symbol.asyncDispose]: stop };
}
