import assert from "node:assert/strict";
import { LIMITS } from "../../lib/protocol/mod.ts";
import { limitsFromEnv } from "../../lib/server/settings.ts";

Deno.test("limits come from the protocol, overridden by the environment", () => {
  assert.deepEqual(limitsFromEnv({}), { ...LIMITS });
  const limits = limitsFromEnv({ PARLEY_RATE_LIMIT: "1000", PARLEY_RATE_BURST: "2000" });
  assert.equal(limits.rateLimit, 1000);
  assert.equal(limits.rateBurst, 2000);
  assert.equal(limits.maxFrameBytes, LIMITS.maxFrameBytes);
});

Deno.test("a bad setting is refused with its name and value", () => {
  assert.throws(
    () => limitsFromEnv({ PARLEY_RATE_LIMIT: "fast" }),
    (error: Error) =>
      error instanceof RangeError &&
      error.message ===
        'Cannot read PARLEY_RATE_LIMIT as it must be a positive number: current value is "fast"',
  );
  assert.throws(() => limitsFromEnv({ PARLEY_RATE_BURST: "-1" }), RangeError);
});
