/**
 * A client that never reads, flooded by five senders, against a real server
 * process: the server suspends it once over `PARLEY_MAX_BUFFERED_BYTES` is
 * queued for it (a 4004 close frame at the end of what it was sent), its
 * memory grows by no more than that bound plus the resume log (and a
 * margin for the garbage the flood itself makes), and the senders' acks
 * stay as quick as when they flood a client that reads. Runs alone (see
 * deno.json's test task): it compares latencies.
 *
 * @module
 */
import assert from "node:assert/strict";
import { CLOSE, LIMITS } from "../../lib/protocol/mod.ts";
import { rssOf, stalledReader } from "../_helpers/faults.ts";
import { type RawClient, rawClient } from "../_helpers/hub.ts";
import { startApp } from "../_helpers/server.ts";

const SENDERS = 5;
/** 32 KB private messages, 45 a second each, as in the report that found the leak. */
const MESSAGE = "x".repeat(32 * 1024 - 64);
const PER_SECOND = 45;
const SECONDS = 8;
/**
 * What the flood itself costs the server's resident memory whoever reads it:
 * 32 KB strings made and collected 225 times a second, and a V8 heap that
 * grows in steps and does not give back. Measured on this machine: 23 MB
 * over the last seven seconds with the bound, 95 MB with it lifted
 * (`PARLEY_MAX_BUFFERED_BYTES=1000000000`, which this test then fails).
 */
const GARBAGE_MARGIN = 32 * 1024 * 1024;
/** Below this, both p99s count as equal (scheduler noise on a shared machine; see flood_test.ts). */
const FLOOR_MS = 5;

function p99(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))];
}

/** Every sender posts to `recipient` at the flood's rate; resolves to the ack times (ms). */
async function flood(senders: RawClient[], recipient: string): Promise<number[]> {
  const times: number[] = [];
  await Promise.all(senders.map(async (sender) => {
    const pending: Promise<void>[] = [];
    for (let i = 0; i < PER_SECOND * SECONDS; i++) {
      const start = performance.now();
      pending.push(
        sender.request({ type: "post", recipient, message: { i, text: MESSAGE } }, 20_000).then(
          (answer) => {
            assert.equal(answer.type, "ack", `sender got ${JSON.stringify(answer)}`);
            times.push(performance.now() - start);
          },
        ),
      );
      await new Promise((r) => setTimeout(r, 1000 / PER_SECOND));
    }
    await Promise.all(pending);
  }));
  return times;
}

/** The most the kernel may hold of a TCP connection on loopback: its send and receive buffers. */
async function kernelBuffers(): Promise<number> {
  const max = async (name: string) =>
    Number((await Deno.readTextFile(`/proc/sys/net/ipv4/${name}`)).trim().split(/\s+/)[2]);
  return await max("tcp_wmem") + await max("tcp_rmem");
}

Deno.test("a client that stops reading is suspended at the bound; senders are not slowed", async () => {
  await using app = await startApp({ env: { PARLEY_RATE_LIMIT: "100", PARLEY_RATE_BURST: "200" } });
  const senders = await Promise.all(
    Array.from({ length: SENDERS }, (_, i) => rawClient(app.wsUrl, { name: `sender${i}` })),
  );
  const reader = await rawClient(app.wsUrl, { name: "reader" });
  try {
    // Unflooded: the same flood to a client that reads (it also grows the heap to its working size).
    const calm = await flood(senders, reader.welcome.user_id);

    await using slow = await stalledReader(`${app.wsUrl}?name=slow`);
    // The server's memory, sampled through the flood of the slow reader.
    const samples: number[] = [];
    const sampler = setInterval(() => rssOf(app.pid).then((rss) => samples.push(rss)), 250);
    const flooded = await flood(senders, slow.welcome.user_id);
    clearInterval(sampler);
    // Its first second holds the suspension; what grows after it is what a leak would.
    const settled = Math.max(...samples.slice(0, 4));
    const end = Math.max(...samples.slice(-4));
    const growth = end - settled;
    const bound = LIMITS.maxBufferedBytes + LIMITS.resumeBufferBytes;
    console.log(
      `rss across the slow reader's flood: ${(settled / 1e6).toFixed(1)} → ${
        (end / 1e6).toFixed(1)
      } MB; ack p99 ${p99(calm).toFixed(1)} ms calm, ${p99(flooded).toFixed(1)} ms flooding it`,
    );
    assert.ok(
      growth <= bound + GARBAGE_MARGIN,
      `server grew by ${growth} bytes, over the bound ${bound} plus ${GARBAGE_MARGIN}`,
    );
    assert.ok(
      p99(flooded) <= Math.max(FLOOR_MS, 2 * p99(calm)),
      `senders' p99 ${p99(flooded)} ms is over 2 × ${p99(calm)} ms`,
    );
    // What was queued for it arrives, then the server's close: suspended as a slow reader.
    const { code, frames } = await slow.drain();
    assert.equal(code, CLOSE.slowReader, `closed with ${code} after ${frames} frames`);
    const reached = frames * MESSAGE.length;
    assert.ok(
      reached <= LIMITS.maxBufferedBytes + await kernelBuffers() + MESSAGE.length,
      `${reached} bytes reached the slow socket before its close: the bound did not hold`,
    );
    // Suspended, not gone: its session waits to be resumed with what it missed.
    const health = await fetch(`${app.url}/api/health`).then((r) => r.json());
    assert.equal(health.sockets, SENDERS + 2, "the slow connection is kept for its resume");
  } finally {
    await Promise.all([...senders, reader].map((c) => c.close()));
  }
});
