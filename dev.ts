#!/usr/bin/env -S deno run -A --watch=static/,routes/,islands/,lib/

// The project's tool. `deno task manifest | build | dev` are Fresh's own
// commands ($fresh/dev.ts); the app adds two ways to serve a built app:
// - `start`: build when stale, then serve in this process on config.server
//   (PORT, and TLS from PARLEY_TLS_CERT/KEY);
// - `cluster`: build when stale, then `deno serve --parallel main.ts` (one
//   isolate per CPU, or $DENO_JOBS) on the same port.
import dev from "$fresh/dev.ts";
import config from "./fresh.config.ts";

const [command, ...flags] = Deno.args;
if (command === "start") {
  await dev(import.meta.url, "./main.ts", config, ["--if-stale", ...flags]);
} else if (command === "cluster") {
  const { port, hostname, cert } = config.server ?? {};
  if (cert) {
    throw new TypeError(
      "Cannot serve a cluster over TLS as `deno serve` takes no certificate: terminate TLS in a proxy in front of it, or use `start`",
    );
  }
  await dev(import.meta.url, "./main.ts", config, ["build", "--if-stale"]);
  // `deno serve` takes no port from the environment, so pass config's.
  const args = ["serve", "-A", "--parallel", "--port", String(port), "--host", String(hostname)];
  const main = decodeURIComponent(new URL("./main.ts", import.meta.url).pathname);
  const server = new Deno.Command(Deno.execPath(), { args: [...args, main] }).spawn();
  // Stopping this process stops the cluster, which would outlive it otherwise.
  let stopping = false;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => {
      stopping = true;
      server.kill(signal);
    });
  }
  const { code } = await server.status;
  if (!stopping && code !== 0) {
    throw new Error(`Cannot keep serving main.ts: deno serve exited with ${code}`);
  }
  Deno.exit(code);
} else {
  await dev(import.meta.url, "./main.ts", config);
}
