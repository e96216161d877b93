import assert from "node:assert/strict";
import { startHub } from "../_helpers/hub.ts";

const script = new URL("./fixtures/meet.ts", import.meta.url).pathname;

function run(url: string, name: string): Promise<Deno.CommandOutput> {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--cached-only", script, url, name, "meeting"],
    stdout: "piped",
    stderr: "piped",
  }).output();
}

Deno.test("two Deno scripts using only RealtimeClient find each other and talk", async () => {
  await using server = await startHub();
  const [ada, bob] = await Promise.all([run(server.url, "ada"), run(server.url, "bob")]);
  for (const [who, output] of [["ada", ada], ["bob", bob]] as const) {
    assert.equal(output.code, 0, `${who}: ${new TextDecoder().decode(output.stderr)}`);
  }
  assert.deepEqual(JSON.parse(new TextDecoder().decode(ada.stdout)), {
    group: "hello group from bob",
    private: "hello ada from bob",
  });
  assert.deepEqual(JSON.parse(new TextDecoder().decode(bob.stdout)), {
    group: "hello group from ada",
    private: "hello bob from ada",
  });
});
