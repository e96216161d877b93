import assert from "node:assert/strict";
import { Connection, type SocketLike } from "../../lib/server/connection.ts";
import { Registry } from "../../lib/server/registry.ts";

const socket: SocketLike = { readyState: 1, send() {}, close() {} };
const LIMITS = { rate: 50, burst: 100, replayFrames: 10, replayBytes: 1024 };
let next = 0;
const connection = (user_id: string) =>
  new Connection(socket, { cid: `cid:${++next}`, user_id, name: "A" }, LIMITS);

Deno.test("a user's lone connection, then a second and a third, resolve by user_id", () => {
  const registry = new Registry();
  const first = connection("u1");
  registry.add(first);
  registry.add(first); // added twice: still one
  assert.deepEqual([...registry.resolve({ user_id: "u1" })], [first]);
  const second = connection("u1");
  const third = connection("u1");
  registry.add(second);
  registry.add(third);
  assert.deepEqual(new Set(registry.resolve({ user_id: "u1" })), new Set([first, second, third]));
  registry.remove(second);
  assert.deepEqual(new Set(registry.resolve({ user_id: "u1" })), new Set([first, third]));
  registry.remove(first);
  registry.remove(third);
  assert.equal(registry.resolve({ user_id: "u1" }).size, 0);
  assert.equal(registry.counts.sockets, 0);
});

Deno.test("a lone connection resolved by user_id, then removed, leaves no recipient behind", () => {
  const registry = new Registry();
  const only = connection("u2");
  registry.add(only);
  assert.deepEqual([...registry.resolve({ user_id: "u2" })], [only]);
  assert.deepEqual([...registry.resolve({ user_id: "u2" })], [only]);
  registry.remove(only);
  assert.equal(registry.resolve({ user_id: "u2" }).size, 0);
  const again = connection("u2");
  registry.add(again);
  assert.deepEqual([...registry.resolve({ user_id: "u2" })], [again]);
  assert.equal(registry.resolve({ user_id: "nobody" }).size, 0);
});

Deno.test("a user's connections are narrowed to granted rooms, and to the group they are in", () => {
  const registry = new Registry();
  const inLobby = connection("u3");
  const elsewhere = connection("u3");
  registry.add(inLobby);
  registry.add(elsewhere);
  registry.setGroup(inLobby, "lobby");
  registry.setGroup(elsewhere, "other");
  assert.deepEqual([...registry.resolve({ user_id: "u3", rooms: ["lobby"] })], [inLobby]);
  assert.deepEqual([...registry.resolve({ group: "lobby" })], [inLobby]);
  registry.remove(inLobby);
  assert.equal(registry.resolve({ group: "lobby" }).size, 0);
  assert.deepEqual([...registry.resolve({ user_id: "u3" })], [elsewhere]);
});
