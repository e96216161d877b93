/**
 * The peerjs section: PeerJS's own wire sent to Parley's `/peerjs`, beside
 * the PeerJS server and the floor.
 *
 * @module
 */
import { LIFTED_RATE_LIMIT } from "../../_helpers/limits.ts";
import { row } from "../rows.ts";
import { PEER_VERSION, type Server, startFloor, startParley, startPeer } from "../servers.ts";
import { log, quick, raw, round } from "../state.ts";
import { best, relayOnce, type RelayResult } from "./relay.ts";

/**
 * PeerJS's own wire (the OFFER ping-pong of the relay section) sent to
 * Parley's `/peerjs`, beside `peer` and the floor (and Parley's own wire,
 * for reference): what a PeerJS app gets by pointing its clients at Parley.
 */
export async function peerjsSection(): Promise<void> {
  log("peerjs: starting floor, PeerJS and Parley (its /peerjs)");
  const servers = await Promise.all([
    startFloor(),
    startPeer(),
    startParley({ ...LIFTED_RATE_LIMIT }),
  ]);
  const [floor, peer, parley] = servers;
  const face: Server = { ...parley, kind: "parley-peerjs", label: "Parley /peerjs" };
  const results: Record<string, RelayResult[]> = {};
  try {
    for (let pass = 0; pass < (quick ? 1 : 2); pass++) {
      for (const pairs of [1, 100, 500]) {
        const order = pass % 2 === 0 ? [floor, peer, face, parley] : [parley, face, peer, floor];
        for (const server of order) {
          const r = await relayOnce(server, pairs, "raw");
          log(
            `peerjs wire ${server.kind} ${pairs} pairs: ${round(r.msgsPerSec)} msg/s, p50 ${
              round(r.p50, 2)
            } ms` + (r.failed ? ` FAILED ${r.failed}` : ""),
          );
          (results[`${server.kind}:${pairs}`] ??= []).push(r);
        }
      }
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
  raw.peerjs = results;
  for (const pairs of [1, 100, 500]) {
    const p = best(results[`parley-peerjs:${pairs}`]);
    const f = best(results[`floor:${pairs}`]);
    const j = best(results[`peerjs:${pairs}`]);
    const own = best(results[`parley:${pairs}`]);
    const what = `PeerJS wire at Parley's /peerjs, ${pairs} pair${pairs > 1 ? "s" : ""}`;
    const cpu = (r: RelayResult) => `${round(r.serverCpu * 100)}%`;
    const note = `server CPU: Parley ${cpu(p)}, floor ${cpu(f)}, PeerJS ${cpu(j)}`;
    row("peerjs", `${what}: msg/s`, "msg/s", p.msgsPerSec, `PeerJS ${PEER_VERSION}`, j.msgsPerSec, {
      op: ">=",
      factor: 1.5,
    }, note);
    row("peerjs", `${what}: msg/s`, "msg/s", p.msgsPerSec, "floor", f.msgsPerSec, {
      op: ">=",
      factor: 0.9,
    });
    row("peerjs", `${what}: p50 round trip`, "ms", p.p50, `PeerJS ${PEER_VERSION}`, j.p50);
    row("peerjs", `${what}: msg/s`, "msg/s", p.msgsPerSec, "Parley's own wire", own.msgsPerSec);
  }
}
