import assert from "node:assert/strict";
import { CLOSE, ERROR_CODES, versionMismatch } from "../../lib/protocol/mod.ts";

Deno.test("a version mismatch names both versions and which side is behind", () => {
  assert.equal(
    versionMismatch("2", 1),
    "Protocol v2 is not spoken here: this server speaks v1, so the SDK is too new for it",
  );
  assert.equal(
    versionMismatch("1", 3),
    "Protocol v1 is not spoken here: this server speaks v3, so the SDK is too old for it",
  );
  assert.equal(
    versionMismatch("x\u00e9<b>", 1),
    'Protocol "x??b?" is not spoken here: this server speaks v1',
  );
});

Deno.test("a version mismatch fits a WebSocket close reason whatever the client sent", () => {
  for (const v of ["999999", "9".repeat(500), "\u{1F600}".repeat(100), "", "-1", "1.5"]) {
    const bytes = new TextEncoder().encode(versionMismatch(v, 1)).length;
    assert.ok(bytes <= 123, `${bytes} bytes for ${JSON.stringify(v.slice(0, 20))}`);
  }
  assert.ok(ERROR_CODES.includes("UNSUPPORTED_VERSION"));
  assert.equal(CLOSE.unsupportedVersion, 4002);
});
