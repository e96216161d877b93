/**
 * Firefox inside a LAN of the NAT bed (tests/_helpers/nat.ts). Puppeteer
 * reaches Firefox over a socket on the browser's own loopback, which another
 * namespace cannot reach, so a small agent runs inside the LAN
 * (`ip netns exec … deno run firefox_agent.ts <page url>`): it launches
 * Firefox there, opens the call harness on the app, and takes its orders as
 * JSON lines on stdin, answering on stdout (pipes cross namespaces).
 *
 * @example
 * ```ts ignore
 * await using firefox = await startFirefoxAgent(bed.lans[0], app.url);
 * const cid = await firefox.run<string>("return H.connect()");
 * ```
 *
 * @module
 */
import { h, openHarness } from "../e2e/_calls_harness.ts";
import { firefoxPageErrors, firefoxUserPage, launchFirefox } from "./firefox.ts";
import type { Lan } from "./nat.ts";
import { PUBLIC_IP } from "./nat.ts";
import { waitFor } from "./wait.ts";

/** One order: run `body` (an async function body of `H` and `arg`) in the page. */
interface Order {
  id: number;
  body: string;
  arg?: unknown;
}

/** The answer to an order. */
interface Answer {
  id: number;
  value?: unknown;
  error?: string;
}

/** A Firefox page in a LAN, driven through its agent. */
export interface FirefoxAgent extends AsyncDisposable {
  /** Runs `body` in the page as an async function of `H` and `arg`. */
  run<T = unknown>(body: string, arg?: unknown): Promise<T>;
  /** Waits until `expression` (with `H` in scope) is truthy in the page. */
  until(expression: string, timeout?: number): Promise<void>;
  /** Closes Firefox and ends the agent; idempotent. */
  stop(): Promise<void>;
}

/** Starts the agent inside `lan` with the harness on `appUrl` (e.g. `http://100.64.0.1:P`). */
export async function startFirefoxAgent(lan: Lan, appUrl: string): Promise<FirefoxAgent> {
  const child = new Deno.Command(lan.exec[0], {
    args: [
      ...lan.exec.slice(1),
      Deno.execPath(),
      "run",
      "-A",
      "--cached-only",
      decodeURIComponent(new URL(import.meta.url).pathname),
      appUrl,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  const pending = new Map<number, PromiseWithResolvers<unknown>>();
  const ready = Promise.withResolvers<void>();
  let stderr = "";
  void (async () => {
    const decoder = new TextDecoder();
    for await (const bytes of child.stderr) {
      stderr = (stderr + decoder.decode(bytes, { stream: true })).slice(-8_192);
    }
  })();
  void (async () => {
    for await (const line of lines(child.stdout)) {
      let answer: Answer & { ready?: boolean };
      try {
        answer = JSON.parse(line);
      } catch {
        continue; // not ours (a library's console output)
      }
      if (answer.ready) ready.resolve();
      const waiter = pending.get(answer.id);
      if (!waiter) continue;
      pending.delete(answer.id);
      if (answer.error) waiter.reject(new Error(answer.error));
      else waiter.resolve(answer.value);
    }
    const gone = new Error(`the Firefox agent ended:\n${stderr}`);
    ready.reject(gone);
    for (const waiter of pending.values()) waiter.reject(gone);
  })();
  let next = 0;
  const run = async <T>(body: string, arg?: unknown): Promise<T> => {
    const id = ++next;
    const waiter = Promise.withResolvers<unknown>();
    pending.set(id, waiter);
    await writer.write(new TextEncoder().encode(JSON.stringify({ id, body, arg }) + "\n"));
    return await waiter.promise as T;
  };
  let stopping: Promise<void> | undefined;
  const stop = () =>
    stopping ??= (async () => {
      await writer.close().catch(() => {});
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise((r) => timer = setTimeout(r, 15_000));
      await Promise.race([child.status, late]);
      clearTimeout(timer);
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
      await child.status;
    })();
  try {
    await ready.promise;
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    run,
    until: (expression, timeout = 15_000) =>
      waitFor(() => run<boolean>(`return !!(${expression})`), {
        timeout,
        message: `Firefox: ${expression}`,
      }).then(() => {}),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

async function* lines(stream: ReadableStream<Uint8Array<ArrayBuffer>>): AsyncGenerator<string> {
  let buffer = "";
  const decoder = new TextDecoder();
  for await (const bytes of stream) {
    buffer += decoder.decode(bytes, { stream: true });
    let end: number;
    while ((end = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, end).trim();
      buffer = buffer.slice(end + 1);
      if (line) yield line;
    }
  }
}

/** The agent: inside the LAN, Firefox on the harness page; orders on stdin. */
async function agent(appUrl: string): Promise<void> {
  await using firefox = await launchFirefox({
    // The app's public origin is plain http: make it a secure context.
    prefs: { "dom.securecontext.allowlist": PUBLIC_IP },
  });
  const page = await firefoxUserPage(firefox);
  const errors = firefoxPageErrors(page);
  await openHarness(page, appUrl);
  const say = (answer: object) => console.log(JSON.stringify(answer));
  say({ ready: true });
  for await (const line of lines(Deno.stdin.readable)) {
    const order = JSON.parse(line) as Order;
    try {
      const value = await h(page, order.body, order.arg ?? null);
      say({ id: order.id, value: value ?? null });
    } catch (error) {
      say({
        id: order.id,
        error: `${(error as Error)?.message ?? error}\n${
          errors.list.map((e) => e.text).join("\n")
        }`,
      });
    }
  }
}

if (import.meta.main) await agent(Deno.args[0]);
