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
import { type ChildProcess, freePort, spawnProcess } from "./process.ts";
import { waitFor } from "./wait.ts";

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

/** TURN over TLS (`turns:`): a port and the PEM files of its certificate. */
export interface TurnTls {
  port: number;
  certFile: string;
  keyFile: string;
}

/**
 * coturn on `ip`:`port` (TURN REST secret `secret`), relaying on `ip`, no
 * CLI, TLS only on `tls.port` when given. Also a plain STUN server. `ip`
 * defaults to 127.0.0.1 (then loopback peers are allowed). Its output is
 * discarded; `stop()` ends it by its pid.
 */
export function spawnTurn(
  port: number,
  secret = "parley-test",
  ip = "127.0.0.1",
  tls?: TurnTls,
): ChildProcess {
  return spawnProcess("turnserver", {
    args: [
      `--listening-ip=${ip}`,
      `--listening-port=${port}`,
      `--relay-ip=${ip}`,
      "--use-auth-secret",
      `--static-auth-secret=${secret}`,
      "--realm=parley",
      ...(ip === "127.0.0.1" ? ["--allow-loopback-peers"] : []),
      "--no-cli",
      ...(tls
        ? [`--tls-listening-port=${tls.port}`, `--cert=${tls.certFile}`, `--pkey=${tls.keyFile}`]
        : ["--no-tls"]),
      "--no-dtls",
      "--log-file=stdout",
      `--pidfile=/tmp/parley-turn-${port}.pid`,
    ],
    stdout: "null",
    stderr: "null",
  });
}

/** A running coturn. */
export interface RunningTurn extends AsyncDisposable {
  port: number;
  /** The TLS port (`turns:`), when started with `tls`. */
  tlsPort?: number;
  secret: string;
  /** SIGTERM by pid, SIGKILL after a grace period, then wait; idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts coturn on a free port of `options.ip` (default 127.0.0.1) — and
 * TURN over TLS on another, with `options.tls`'s certificate — and waits
 * until it accepts TCP connections.
 */
export async function startTurn(
  options: { secret?: string; ip?: string; tls?: { certFile: string; keyFile: string } } = {},
): Promise<RunningTurn> {
  const secret = options.secret ?? "parley-test";
  const ip = options.ip ?? "127.0.0.1";
  const port = freePort(ip);
  const tls = options.tls && { ...options.tls, port: freePort(ip) };
  const turn = spawnTurn(port, secret, ip, tls);
  const stop = turn.stop;
  try {
    await waitFor(async () => {
      for (const p of [port, ...(tls ? [tls.port] : [])]) {
        (await Deno.connect({ hostname: ip, port: p })).close();
      }
      return true;
    }, { timeout: 10_000, message: `coturn listening on ${ip}:${port}` });
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, tlsPort: tls?.port, secret, stop, [Symbol.asyncDispose]: stop };
}
