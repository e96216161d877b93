import assert from "node:assert/strict";
import { TypedEmitter } from "../../lib/sdk/emitter.ts";

Deno.test("listeners get their event's arguments and can be removed", () => {
  const emitter = new TypedEmitter<{ tick: (n: number, label: string) => void }>();
  const got: Array<[number, string]> = [];
  const off = emitter.on("tick", (n, label) => got.push([n, label]));
  emitter.emit("tick", 1, "a");
  off();
  emitter.emit("tick", 2, "b");
  assert.deepEqual(got, [[1, "a"]]);
});

Deno.test("a throwing listener does not stop the others", () => {
  const emitter = new TypedEmitter<{ tick: () => void }>();
  let reached = false;
  const errors: unknown[] = [];
  const originalError = console.error;
  console.error = (...args: unknown[]) => errors.push(args);
  try {
    emitter.on("tick", () => {
      throw new Error("boom");
    });
    emitter.on("tick", () => reached = true);
    emitter.emit("tick");
  } finally {
    console.error = originalError;
  }
  assert.ok(reached);
  assert.equal(errors.length, 1);
});

Deno.test("a listener added or removed during an emit takes effect from the next one; adding twice is once", () => {
  const emitter = new TypedEmitter<{ tick: (n: number) => void }>();
  const got: string[] = [];
  const late = (n: number) => got.push(`late ${n}`);
  const second = (n: number) => got.push(`second ${n}`);
  emitter.on("tick", (n) => {
    got.push(`first ${n}`);
    if (n === 1) {
      emitter.on("tick", late);
      emitter.off("tick", second);
    }
  });
  emitter.on("tick", second);
  emitter.on("tick", second);
  emitter.emit("tick", 1);
  emitter.emit("tick", 2);
  assert.deepEqual(got, ["first 1", "second 1", "first 2", "late 2"]);
  emitter.off("tick", late);
  emitter.off("tick", late);
  emitter.emit("tick", 3);
  assert.deepEqual(got.slice(4), ["first 3"]);
});
