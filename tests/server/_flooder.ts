/**
 * The flooder: a client that floods the hub with posts, run in a Worker by
 * flood_test.ts so the flood has a thread of its own.
 *
 * @module
 */

/** What the flooder reports when told to stop. */
export interface FloodReport {
  sent: number;
  connections: number;
  rateLimited: number;
  accepted: number;
  policyCloses: number;
  /**
   * Closes without a close frame (0 or 1006): the server closed while this
   * side was still writing, so the kernel reset the connection and the
   * close frame was lost with the unread data.
   */
  resets: number;
  otherCloses: Array<{ code: number; reason: string }>;
  policyReasons: string[];
}

/**
 * Floods `url` from this thread: joins `group`, then posts 100 frames every
 * millisecond or so (about 100,000 a second offered: 2,000 times the
 * default rate limit), reading the answers between slices; on a close,
 * reconnects and floods again, until `stop` resolves.
 *
 * Why not a spin without pauses: on a 2-core machine that thread would take
 * a core from the server's thread, and the test would measure the machine,
 * not the hub. (Nearly all of it would be wasted anyway: frames written
 * after the server's 1008 are never read.)
 */
export async function runFlooder(
  url: string,
  group: string,
  stop: Promise<void>,
  onFlooding: () => void = () => {},
): Promise<FloodReport> {
  const report: FloodReport = {
    sent: 0,
    connections: 0,
    rateLimited: 0,
    accepted: 0,
    policyCloses: 0,
    resets: 0,
    otherCloses: [],
    policyReasons: [],
  };
  let stopped = false;
  stop.then(() => stopped = true);
  const yieldNow = () => new Promise((r) => setTimeout(r, 1));
  for (let round = 0; !stopped && round < 100_000; round++) {
    const socket = new WebSocket(`${url}?name=flooder`);
    report.connections++;
    let open = false;
    const closed = new Promise<CloseEvent>((resolve) => socket.onclose = resolve);
    socket.onopen = () => open = true;
    socket.onmessage = (event) => {
      const frame = JSON.parse(event.data);
      if (frame.type === "error" && frame.code === "RATE_LIMITED" && report.rateLimited++ === 0) {
        onFlooding();
      }
      if (frame.type === "ack") report.accepted++;
    };
    let id = 0;
    // Up to 5 s to open; then send until the server closes us.
    for (let i = 0; i < 5_000 && !open && socket.readyState === WebSocket.CONNECTING; i++) {
      await new Promise((r) => setTimeout(r, 1));
    }
    if (socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ type: "join", id: id++, group }));
    }
    while (!stopped && socket.readyState === WebSocket.OPEN) {
      for (let i = 0; i < 100 && socket.bufferedAmount < 1 << 20; i++) {
        socket.send(`{"type":"post","id":${id++},"message":"flood ${id}"}`);
        report.sent++;
      }
      await yieldNow();
    }
    if (socket.readyState < WebSocket.CLOSING) socket.close();
    const event = await closed;
    if (event.code === 1008) {
      report.policyCloses++;
      if (report.policyReasons.length < 3) report.policyReasons.push(event.reason);
    } else if (!stopped && (event.code === 0 || event.code === 1006)) {
      report.resets++;
    } else if (!stopped) {
      report.otherCloses.push({ code: event.code, reason: event.reason });
    }
  }
  return report;
}

// Started as a Worker by flood_test.ts: flood until told to stop, then report.
if (import.meta.main && "WorkerGlobalScope" in globalThis) {
  const scope = self as unknown as {
    onmessage: ((e: MessageEvent) => void) | null;
    postMessage(message: unknown): void;
  };
  let stop!: () => void;
  const stopping = new Promise<void>((resolve) => stop = resolve);
  scope.onmessage = (event: MessageEvent) => {
    const message = event.data as { start?: { url: string; group: string }; stop?: true };
    if (message.start) {
      runFlooder(
        message.start.url,
        message.start.group,
        stopping,
        () => scope.postMessage({ flooding: true }),
      ).then(
        (report) => scope.postMessage({ report }),
        (error) => scope.postMessage({ error: String(error?.stack ?? error) }),
      );
    }
    if (message.stop) stop();
  };
}
