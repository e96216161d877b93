import assert from "node:assert/strict";
import { verifyToken } from "../../lib/server/auth.ts";
import { REPO_ROOT } from "../_helpers/process.ts";

Deno.test("deno task token mints a token the server accepts", async () => {
  const sub = crypto.randomUUID();
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "task",
      "-q",
      "token",
      "--sub",
      sub,
      "--name",
      "Ada",
      "--rooms",
      "team-*,lobby",
      "--ttl",
      "600",
    ],
    cwd: REPO_ROOT,
    env: { PARLEY_AUTH_SECRET: "cli-secret" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const token = new TextDecoder().decode(out.stdout).trim();
  const grant = await verifyToken("cli-secret", token);
  assert.equal(grant.user_id, sub);
  assert.equal(grant.name, "Ada");
  assert.deepEqual(grant.rooms, ["team-*", "lobby"]);
  assert.ok(Math.abs(grant.exp - (Date.now() / 1000 + 600)) < 5);
  const bad = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", "token", "--rooms", "bad\troom"], // a control character: no room name
    cwd: REPO_ROOT,
    env: { PARLEY_AUTH_SECRET: "cli-secret" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(bad.code, 2);
  assert.match(new TextDecoder().decode(bad.stderr), /room name or a \* pattern/);
});

Deno.test("deno task token --link prints an invite link with the token in the fragment", async () => {
  const run = (...args: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: ["task", "-q", "token", ...args],
      cwd: REPO_ROOT,
      env: { PARLEY_AUTH_SECRET: "cli-secret" },
      stdout: "piped",
      stderr: "piped",
    }).output();
  const out = await run("--rooms", "team-*,board-meeting", "--dm", "--link", "https://h.example");
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const link = new URL(new TextDecoder().decode(out.stdout).trim());
  assert.equal(link.origin + link.pathname, "https://h.example/room/board-meeting");
  assert.equal(link.search, "", "nothing secret in the request line");
  const token = new URLSearchParams(link.hash.slice(1)).get("token");
  const grant = await verifyToken("cli-secret", token);
  assert.deepEqual(grant.rooms, ["team-*", "board-meeting"]);
  assert.equal(grant.dm, true);
  assert.equal(grant.user_id, null, "a link without --sub is a room pass");
  const personal = await run("--sub", crypto.randomUUID(), "--rooms", "r", "--link", "http://h");
  const personalToken = new URL(new TextDecoder().decode(personal.stdout).trim()).hash.slice(7);
  assert.notEqual((await verifyToken("cli-secret", personalToken)).user_id, null);
  const patternsOnly = await run("--rooms", "team-*", "--link", "https://h.example");
  assert.equal(patternsOnly.code, 2);
  assert.match(new TextDecoder().decode(patternsOnly.stderr), /names no room/);
});
