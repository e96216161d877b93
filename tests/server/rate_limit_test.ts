import assert from "node:assert/strict";
import { TokenBucket } from "../../lib/server/rate_limit.ts";

Deno.test("a token bucket admits a burst, then the rate", () => {
  let now = 0;
  const bucket = new TokenBucket(50, 100, () => now);
  let admitted = 0;
  while (bucket.take()) admitted++;
  assert.equal(admitted, 100, "the burst");
  now += 100; // 0.1 s at 50/s
  admitted = 0;
  while (bucket.take()) admitted++;
  assert.equal(admitted, 5, "five refilled");
  now += 60_000;
  admitted = 0;
  while (bucket.take()) admitted++;
  assert.equal(admitted, 100, "never more than the burst saved up");
});
