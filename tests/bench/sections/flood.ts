/**
 * The flood section: a client sending far past Parley's default rate
 * limit, and how much of it Parley accepts.
 *
 * @module
 */
import { generator } from "../procs.ts";
import { notMeasured } from "../rows.ts";
import { startParley } from "../servers.ts";
import { log, raw, round, rows } from "../state.ts";

/** Flood: one client past the default rate limit; what Parley accepts per second. */
export async function floodSection(): Promise<void> {
  log("flood: Parley with the default rate limit");
  const parley = await startParley({});
  try {
    const gen = generator(
      { mode: "flood", server: "parley", port: parley.port, measureMs: 5_000 },
      30_000,
    );
    const r = await gen.result as Record<string, number | boolean | string>;
    await gen.proc.stop();
    raw.flood = r;
    log("flood:", JSON.stringify(r));
    if (r.failed) {
      notMeasured("relay", "Flooding client, default limit", String(r.failed));
      return;
    }
    const limit = 50;
    const rate = Number(r.acceptedPerSecSteady);
    rows.push({
      section: "relay",
      benchmark: `Flooding client at ${
        round(Number(r.sentPerSec))
      } msg/s, default limit: accepted msg/s`,
      unit: "msg/s",
      parley: rate,
      reference: "the limit (PARLEY_RATE_LIMIT)",
      referenceValue: limit,
      ratio: rate / limit,
      target: "0.9–1.1×",
      met: rate >= 0.9 * limit && rate <= 1.1 * limit,
      note: `${r.accepted} accepted, ${r.rejected} RATE_LIMITED, recipient got ${
        round(Number(r.receivedPerSecSteady))
      }/s; socket ${r.socketClosed ? "closed" : "stayed open"}`,
    });
  } finally {
    await parley.stop();
  }
}
