import assert from "node:assert/strict";
import { LIMITS } from "../../lib/protocol/mod.ts";
import { clusterFromEnv, limitsFromEnv, peerjsFromEnv } from "../../lib/server/settings.ts";

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

Deno.test("PeerJS settings: on, key peerjs, discovery off, PeerJS's timeouts, by default", () => {
  assert.deepEqual(peerjsFromEnv({}), {
    enabled: true,
    key: "peerjs",
    discovery: false,
    aliveTimeoutMs: 90_000,
    expireTimeoutMs: 5_000,
  });
  const settings = peerjsFromEnv({
    PARLEY_PEERJS: "off",
    PARLEY_PEERJS_KEY: "my-app_1",
    PARLEY_PEERJS_DISCOVERY: "on",
    PARLEY_PEERJS_ALIVE_TIMEOUT_MS: "2000",
    PARLEY_PEERJS_EXPIRE_TIMEOUT_MS: "1000",
  });
  assert.deepEqual(settings, {
    enabled: false,
    key: "my-app_1",
    discovery: true,
    aliveTimeoutMs: 2000,
    expireTimeoutMs: 1000,
  });
  assert.throws(() => peerjsFromEnv({ PARLEY_PEERJS: "yes" }), /must be "on" or "off"/);
  assert.throws(() => peerjsFromEnv({ PARLEY_PEERJS_KEY: "a/b" }), /PARLEY_PEERJS_KEY/);
  assert.throws(
    () => peerjsFromEnv({ PARLEY_PEERJS_ALIVE_TIMEOUT_MS: "10" }),
    /from 100 to 3600000/,
  );
});

Deno.test("the slow-reader bound and the presence repair period are settings", () => {
  assert.equal(limitsFromEnv({}).maxBufferedBytes, 1024 * 1024);
  assert.equal(limitsFromEnv({ PARLEY_MAX_BUFFERED_BYTES: "65536" }).maxBufferedBytes, 65536);
  assert.equal(clusterFromEnv({}).presenceRepairMs, 60_000);
  assert.equal(clusterFromEnv({ PARLEY_PRESENCE_REPAIR_MS: "1000" }).presenceRepairMs, 1000);
  assert.throws(() => clusterFromEnv({ PARLEY_PRESENCE_REPAIR_MS: "5" }), RangeError);
});
