/**
 * Tests of the harness itself (process.ts, wait.ts, limits.ts; server.ts
 * against a fake app so they do not depend on main.ts; nat.ts's beds).
 *
 * @module
 */
import assert from "node:assert/strict";
import { TEST_SECURITY } from "./hub.ts";
import { LIFTED_LIMITS } from "./limits.ts";
import { freePort, ProcessExitedError, spawnProcess, waitServing } from "./process.ts";
import { startApp } from "./server.ts";
import { waitFor } from "./wait.ts";

const fake = { entry: "tests/_helpers/fixtures/fake_app.ts", runner: "run" } as const;

async function rejects(p: Promise<unknown>, pattern: RegExp): Promise<Error> {
  try {
    await p;
  } catch (e) {
    assert(e instanceof Error && pattern.test(e.message), `wrong error: ${e}`);
    return e;
  }
  throw new Error(`expected a rejection matching ${pattern}`);
}

Deno.test("freePort returns a bindable port", () => {
  const port = freePort();
  assert(port > 0, "port");
  Deno.listen({ hostname: "127.0.0.1", port }).close();
});

Deno.test("waitFor resolves with the first truthy value", async () => {
  let n = 0;
  const v = await waitFor(() => ++n >= 3 && `done after ${n}`, { interval: 1 });
  assert(v === "done after 3", v);
});

Deno.test("waitFor settles even when the predicate hangs, and names it", async () => {
  const t0 = Date.now();
  await rejects(
    waitFor(() => new Promise<boolean>(() => {}), { timeout: 200, message: "the moon" }),
    /timed out after 200 ms waiting for the moon/,
  );
  assert(Date.now() - t0 < 1_000, "took too long");
});

Deno.test("waitFor reports the predicate's last error", async () => {
  await rejects(
    waitFor(() => {
      throw new Error("boom");
    }, { timeout: 100 }),
    /last error: boom/,
  );
});

Deno.test("startApp serves, uses a temp KV path, and stop() is idempotent", async () => {
  const app = await startApp({ ...fake, env: { FAKE_APP_MODE: "slow" } });
  try {
    assert(app.url === `http://127.0.0.1:${app.port}`, app.url);
    assert(app.wsUrl === `ws://127.0.0.1:${app.port}/api/realtime`, app.wsUrl);
    const body = await (await fetch(`${app.url}/api/health`)).json();
    assert(body.kvPath === app.kvPath && body.pid === app.pid, JSON.stringify(body));
  } finally {
    await Promise.all([app.stop(), app.stop()]);
    await app.stop();
  }
  await rejects(fetch(`${app.url}/api/health`), /./);
  await rejects(Deno.stat(app.kvPath), /No such file|not found/i);
});

Deno.test("startApp in cluster mode (deno serve --parallel)", async () => {
  await using app = await startApp({ ...fake, cluster: true, env: { DENO_JOBS: "2" } });
  const res = await fetch(`${app.url}/api/health`);
  assert(res.status === 200, `status ${res.status}`);
  await res.body?.cancel();
});

Deno.test("startApp reports an early exit with the app's output", async () => {
  const t0 = Date.now();
  const err = await rejects(
    startApp({ ...fake, env: { FAKE_APP_MODE: "exit" } }),
    /exited with code 7/,
  );
  assert(/exiting on purpose/.test(err.message), err.message);
  assert(Date.now() - t0 < 10_000, "should not wait for the timeout");
});

Deno.test("stop() SIGKILLs an app that ignores SIGTERM after ~3 s", async () => {
  const app = await startApp({ ...fake, env: { FAKE_APP_MODE: "stubborn" } });
  const t0 = Date.now();
  await app.stop();
  const took = Date.now() - t0;
  assert(took >= 2_900 && took < 6_000, `stop took ${took} ms`);
});

Deno.test("spawnProcess keeps the output and SIGKILLs a child that ignores SIGTERM after graceMs", async () => {
  // `exec` keeps the ignored SIGTERM and the pid: no orphan holds the pipes.
  const child = spawnProcess("sh", {
    args: ["-c", 'trap "" TERM; echo started; exec sleep 30'],
    graceMs: 300,
  });
  await waitFor(() => child.output().includes("started"), { message: "the child's output" });
  const t0 = Date.now();
  await Promise.all([child.stop(), child.stop()]);
  const took = Date.now() - t0;
  assert(took >= 290 && took < 3_000, `stop took ${took} ms`);
  assert.equal(child.exited()?.signal, "SIGKILL");
});

Deno.test("waitServing rejects at once when the process exits before it serves", async () => {
  await using child = spawnProcess("sh", { args: ["-c", "echo bye; exit 3"] });
  const t0 = Date.now();
  const error = await rejects(
    waitServing(child, `http://127.0.0.1:${freePort()}/`, { timeout: 10_000 }),
    /exited with code 3 before GET/,
  );
  assert(error instanceof ProcessExitedError && error.code === 3, String(error));
  assert(Date.now() - t0 < 5_000, "should not wait for the timeout");
});

Deno.test("the test hubs lift exactly the limits the apps' environment lifts", () => {
  assert.deepEqual(Object.keys(LIFTED_LIMITS).sort(), [
    "PARLEY_MAX_CONNECTIONS_PER_IP",
    "PARLEY_MAX_CONNECTS_PER_MINUTE",
    "PARLEY_MAX_JOINS_PER_MINUTE",
    "PARLEY_MAX_USERS_PER_ROOM",
  ]);
  assert.equal(TEST_SECURITY.maxConnectionsPerIp, 1_000_000);
  assert.equal(TEST_SECURITY.maxJoinsPerMinute, 1_000_000);
  assert.equal(TEST_SECURITY.maxConnectsPerMinute, 1_000_000);
  assert.equal(TEST_SECURITY.maxUsersPerRoom, 1_000_000);
});

Deno.test({
  name: "NAT beds built at once get their own subnets and leave nothing behind",
  ignore: Deno.env.get("PARLEY_NETNS") !== "1",
  async fn() {
    const { startNatBed } = await import("./nat.ts");
    const addresses = async () =>
      new TextDecoder().decode(
        (await new Deno.Command("/usr/sbin/ip", { args: ["-4", "-o", "addr"], stdout: "piped" })
          .output()).stdout,
      );
    const netns = async () =>
      new TextDecoder().decode(
        (await new Deno.Command("/usr/sbin/ip", { args: ["netns", "list"], stdout: "piped" })
          .output()).stdout,
      );
    const beds = await Promise.all([1, 2, 3].map(() => startNatBed(["cone", "symmetric"])));
    const wans = beds.flatMap((bed) => bed.lans.map((lan) => lan.wanAddress));
    assert(new Set(wans).size === wans.length, `distinct subnets: ${wans}`);
    const names = beds.flatMap((bed) => bed.lans.flatMap((lan) => [lan.netns, lan.router]));
    const before = await netns();
    for (const name of names) assert(before.includes(name), `namespace ${name} made`);
    await Promise.all(beds.map((bed) => bed.stop()));
    const after = await netns();
    for (const name of names) assert(!after.includes(name), `namespace ${name} deleted`);
    const left = await addresses();
    for (const wan of wans) {
      const subnet = wan.replace(/\.2$/, ".");
      assert(!left.includes(`inet ${subnet}`), `${subnet}x still assigned`);
    }
  },
});

Deno.test("lockKv stalls the commits of another process's KV until released", async () => {
  const { lockKv } = await import("./faults.ts");
  const dir = await Deno.makeTempDir();
  const kv = await Deno.openKv(`${dir}/kv.sqlite3`);
  try {
    await kv.set(["k"], 0);
    const lock = await lockKv(`${dir}/kv.sqlite3`, 20_000);
    await rejects(kv.set(["k"], 1), /database is locked/);
    await lock.release();
    await kv.set(["k"], 2);
    assert((await kv.get(["k"])).value === 2, "commits work again once released");
  } finally {
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a silent proxy keeps its connections open and carries nothing", async () => {
  const { startProxy } = await import("./proxy.ts");
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const echo = (async () => {
    for await (const conn of listener) conn.readable.pipeTo(conn.writable).catch(() => {});
  })();
  await using proxy = startProxy((listener.addr as Deno.NetAddr).port);
  const port = Number(new URL(proxy.url).port);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const buffer = new Uint8Array(8);
  await conn.write(new Uint8Array([1]));
  assert(await conn.read(buffer) === 1, "echoed while not silent");
  proxy.silent = true;
  await conn.write(new Uint8Array([2]));
  const got = await Promise.race([
    conn.read(buffer),
    new Promise<"nothing">((r) => setTimeout(() => r("nothing"), 300)),
  ]);
  assert(got === "nothing", `nothing passes while silent, got ${got}`);
  conn.close();
  listener.close();
  await echo;
});
