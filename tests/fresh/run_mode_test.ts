import assert from "node:assert/strict";
import { isRunDirectly } from "$fresh/server.ts";

const probe = new URL("./fixture/run_mode_probe.ts", import.meta.url).pathname;

async function firstLine(args: string[]): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    stdout: "piped",
    stderr: "null",
    stdin: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  reader.cancel();
  try {
    child.kill("SIGKILL");
  } catch { /* already exited */ }
  await child.status;
  return text.split("\n")[0];
}

Deno.test("isRunDirectly: yes under deno run, no under deno serve", async () => {
  assert.equal(await firstLine(["run", "-A", "--cached-only", probe]), "direct=true");
  assert.equal(
    await firstLine(["serve", "-A", "--cached-only", "--host", "127.0.0.1", "--port", "0", probe]),
    "direct=false",
  );
});

Deno.test("isRunDirectly: no for an imported module", () => {
  assert.equal(isRunDirectly({ ...import.meta, main: false }), false);
});
