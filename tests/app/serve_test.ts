// The app's own ways to serve (main.ts, dev.ts, fresh.config.ts): what moved
// out of lib/fresh. TLS itself is tests/security/tls_test.ts.
import assert from "node:assert/strict";
import { freePort, REPO_ROOT } from "../_helpers/process.ts";
import { startApp } from "../_helpers/server.ts";

async function refused(port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    return false;
  } catch (error) {
    return error instanceof Deno.errors.ConnectionRefused;
  }
}

/** Runs `deno run -A <args>` in the repository with `env`; its exit code and output. */
async function runDeno(args: string[], env: Record<string, string>) {
  const flags = Deno.env.get("PARLEY_NETNS") === "1" ? ["--cached-only"] : [];
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...flags, ...args],
    cwd: REPO_ROOT,
    env: { DENO_NO_UPDATE_CHECK: "1", PARLEY_KV_PATH: ":memory:", ...env },
    stdin: "null",
  }).output();
  return {
    code: out.code,
    output: new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr),
  };
}

Deno.test("main.ts under deno serve leaves PORT alone: only deno serve binds", async () => {
  const ignored = freePort("127.0.0.1");
  await using app = await startApp({ env: { PORT: String(ignored) } });
  assert.equal(await fetch(`${app.url}/api/health`).then((r) => r.body?.cancel()), undefined);
  assert.ok(await refused(ignored), `nothing listens on PORT ${ignored} under deno serve`);
});

Deno.test("deno task cluster serves main.ts on PORT, and stops with its process", async () => {
  const app = await startApp({
    runner: "run",
    entry: "dev.ts",
    entryArgs: ["cluster"],
    env: { DENO_JOBS: "2" },
    timeout: 60_000,
  });
  try {
    const res = await fetch(`${app.url}/api/health`);
    assert.equal(res.status, 200);
    await res.body?.cancel();
  } finally {
    await app.stop();
  }
  assert.ok(await refused(app.port), "the cluster stopped with dev.ts");
});

Deno.test("deno task start serves the built app in its own process on PORT", async () => {
  await using app = await startApp({ runner: "run", entry: "dev.ts", entryArgs: ["start"] });
  const res = await fetch(`${app.url}/`);
  assert.equal(res.status, 200);
  assert.match(await res.text(), /<!DOCTYPE html>/);
  assert.match(app.output(), /Client build in .* is up to date/, "a fresh build is not redone");
});

Deno.test("the cluster refuses TLS, which deno serve cannot do, with the reason", async () => {
  const pem = `${REPO_ROOT}deno.json`; // any readable file: refused before it is parsed
  const { code, output } = await runDeno(["dev.ts", "cluster"], {
    PARLEY_TLS_CERT: pem,
    PARLEY_TLS_KEY: pem,
  });
  assert.notEqual(code, 0);
  assert.match(output, /Cannot serve a cluster over TLS/);
});

Deno.test("half a TLS setting, or a bad PORT, stops the app with the reason", async () => {
  const half = await runDeno(["main.ts"], { PARLEY_TLS_CERT: `${REPO_ROOT}deno.json` });
  assert.notEqual(half.code, 0);
  assert.match(half.output, /only one of PARLEY_TLS_CERT and PARLEY_TLS_KEY is set/);
  const port = await runDeno(["main.ts"], { PORT: "70000" });
  assert.notEqual(port.code, 0);
  assert.match(port.output, /PORT must be an integer in 0-65535: current value is 70000/);
});
