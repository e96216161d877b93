import assert from "node:assert/strict";
import { RealtimeError } from "../../lib/sdk/errors.ts";
import { PendingRequests } from "../../lib/sdk/requests.ts";

/** Counts the timers set while `body` runs (the real ones still run). */
async function countingTimers<T>(body: () => Promise<T>): Promise<{ result: T; set: number }> {
  const real = globalThis.setTimeout;
  let set = 0;
  globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
    set++;
    return real(...args);
  }) as typeof setTimeout;
  try {
    return { result: await body(), set };
  } finally {
    globalThis.setTimeout = real;
  }
}

const codeOf = (promise: Promise<unknown>) =>
  promise.then(() => "resolved", (error: RealtimeError) => error.code);

Deno.test("many requests in flight share one timer, and each settles on its own answer", async () => {
  const pending = new PendingRequests();
  const { result, set } = await countingTimers(async () => {
    const waits = Array.from(
      { length: 100 },
      (_, i) => pending.track<{ group: string }>(i + 1, "join", 10_000, () => true),
    );
    assert.equal(pending.size, 100);
    for (let i = 0; i < 100; i++) {
      if (i % 2 === 0) pending.settle({ type: "ack", id: i + 1, result: { group: `g${i}` } });
      else pending.settle({ type: "error", id: i + 1, code: "NOT_FOUND", message: "gone" });
    }
    return await Promise.allSettled(waits);
  });
  assert.equal(set, 1, "one timer for a hundred requests");
  assert.equal(pending.size, 0);
  result.forEach((outcome, i) => {
    if (i % 2 === 0) {
      assert.deepEqual(outcome, { status: "fulfilled", value: { group: `g${i}` } });
    } else {
      assert.equal(outcome.status, "rejected");
      assert.equal((outcome as PromiseRejectedResult).reason.code, "NOT_FOUND");
    }
  });
  // The timer outlives the last request, unreferenced: the test's op sanitizer would fail it otherwise.
});

Deno.test("requests one after the other (each sent once the last is answered) keep the one timer", async () => {
  const pending = new PendingRequests();
  const { result, set } = await countingTimers(async () => {
    const results = [];
    for (let i = 1; i <= 100; i++) {
      const wait = pending.track<{ delivered: number }>(i, "post", 10_000, () => true);
      pending.settle({ type: "ack", id: i, result: { delivered: i } });
      results.push((await wait).delivered);
    }
    return results;
  });
  assert.equal(set, 1, "one timer for a hundred requests in turn");
  assert.deepEqual(result, Array.from({ length: 100 }, (_, i) => i + 1));
  // After a quiet spell the same timer still times a request out.
  const late = await codeOf(pending.track(101, "post", 30, () => true));
  assert.equal(late, "TIMEOUT");
});

Deno.test("a script whose last request was answered exits at once: the idle timer holds nothing open", async () => {
  const script = `
    import { PendingRequests } from ${
    JSON.stringify(new URL("../../lib/sdk/requests.ts", import.meta.url).href)
  };
    const pending = new PendingRequests();
    const wait = pending.track(1, "post", 120_000, () => true);
    pending.settle({ type: "ack", id: 1, result: { delivered: 1 } });
    console.log(JSON.stringify(await wait));
  `;
  // Aborted at half the request's timeout: only a held-open process gets there.
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  assert.equal(new TextDecoder().decode(out.stdout).trim(), '{"delivered":1}');
});

Deno.test("the one timer fires at each deadline in turn, shorter timeouts first, and spares the answered", async () => {
  const pending = new PendingRequests();
  const order: string[] = [];
  const note = (name: string, promise: Promise<unknown>) =>
    codeOf(promise).then((code) => {
      order.push(`${name}:${code}`);
      return code;
    });
  const started = performance.now();
  const slow = note("slow", pending.track(1, "slow", 900, () => true));
  const answered = note("answered", pending.track(2, "answered", 700, () => true));
  const fast = note("fast", pending.track(3, "fast", 30, () => true));
  const middle = note("middle", pending.track(4, "middle", 600, () => true));
  assert.equal(await fast, "TIMEOUT");
  pending.settle({ type: "ack", id: 2, result: {} });
  assert.equal(await middle, "TIMEOUT");
  assert.equal(await slow, "TIMEOUT");
  assert.ok(performance.now() - started >= 900, "the 900 ms request waited its full time");
  assert.equal(await answered, "resolved");
  assert.deepEqual(order, ["fast:TIMEOUT", "answered:resolved", "middle:TIMEOUT", "slow:TIMEOUT"]);
  assert.equal(pending.size, 0);
});

Deno.test("a timed-out request says what timed out and after how long; a late answer finds nothing", async () => {
  const pending = new PendingRequests();
  const error = await pending.track(9, "join the group", 20, () => true).catch((e) => e);
  assert.ok(error instanceof RealtimeError);
  assert.equal(error.code, "TIMEOUT");
  assert.match(error.message, /join the group.*20 ms/);
  assert.equal(pending.settle({ type: "ack", id: 9, result: {} }), false);
});

Deno.test("closing cancels every request at once and stops the timer; a send that fails rejects at once", async () => {
  const pending = new PendingRequests();
  const waits = [1, 2, 3].map((id) => codeOf(pending.track(id, "post", 60_000, () => true)));
  pending.cancelAll();
  assert.deepEqual(await Promise.all(waits), ["CANCELLED", "CANCELLED", "CANCELLED"]);
  assert.equal(pending.size, 0);
  const { result, set } = await countingTimers(() =>
    codeOf(pending.track(4, "post", 60_000, () => false))
  );
  assert.equal(result, "NOT_CONNECTED");
  assert.equal(set, 0, "no timer for a request that was never sent");
  // A new request after the cancel gets a timer of its own again, and its answer stops it.
  const later = pending.track(5, "post", 60_000, () => true);
  pending.settle({ type: "ack", id: 5, result: { delivered: 1 } });
  assert.deepEqual(await later, { delivered: 1 });
});

Deno.test("a send that throws rejects with its error at once and leaves nothing waiting", async () => {
  const pending = new PendingRequests();
  const refused = new TypeError("cannot serialise");
  await assert.rejects(
    pending.track(1, "post", 10_000, () => {
      throw refused;
    }),
    (error) => error === refused,
  );
  assert.equal(pending.size, 0, "no entry left for the timer to find");
  pending.cancelAll();
});
