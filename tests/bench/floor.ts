/**
 * The floor: the least a Deno WebSocket relay must do, to measure Parley
 * against. A bare `Deno.serve` + `Deno.upgradeWebSocket` on 127.0.0.1 that
 *
 * - takes `GET /?id=ID` as a socket named ID and says `{"type":"OPEN"}`;
 * - forwards `{"dst":ID2,"payload":…}` to ID2 as `{"type":"msg","src":ID,"payload":…}`
 *   (one `JSON.parse`, one `JSON.stringify`: the sender is stamped by the
 *   server, as any relay that trusts no client must);
 * - for the join storm, takes `{"join":GROUP}` into a group and tells every
 *   member (the joiner too) `{"type":"notice","code":"USER_JOINED",…}`, about
 *   as long as Parley's notice.
 *
 * `--bare` upgrades and says OPEN, and does nothing else (no map, no
 * handlers): the cost of a socket in Deno itself. `--ack` also answers
 * each forwarded frame that carries an `id` with `{"type":"ack","id":…}` to
 * its sender, as Parley acks each post (the like-for-like reference of
 * acked relay). `GET /mem` answers `Deno.memoryUsage()`.
 *
 * Usage: `deno run -A tests/bench/floor.ts --port P [--bare] [--ack]`; prints
 * `listening P` once bound.
 *
 * @module
 */

const args = Deno.args;
const port = Number(args[args.indexOf("--port") + 1]);
const bare = args.includes("--bare");
const ack = args.includes("--ack");
if (!Number.isInteger(port) || port <= 0) throw new Error("floor: --port P is required");

const OPEN = '{"type":"OPEN"}';
const sockets = new Map<string, WebSocket>();
const groups = new Map<string, Set<WebSocket>>();

const server = Deno.serve({
  hostname: "127.0.0.1",
  port,
  onListen: () => console.log(`listening ${port}`),
}, (req) => {
  const url = new URL(req.url);
  if (url.pathname === "/mem") {
    return Response.json({ ...Deno.memoryUsage(), sockets: sockets.size, groups: groups.size });
  }
  if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    return new Response("floor", { status: 200 });
  }
  const id = url.searchParams.get("id") ?? crypto.randomUUID();
  const { socket, response } = Deno.upgradeWebSocket(req);
  if (bare) {
    socket.onopen = () => socket.send(OPEN);
    return response;
  }
  let group: string | null = null;
  socket.onopen = () => {
    sockets.set(id, socket);
    socket.send(OPEN);
  };
  socket.onmessage = (event) => {
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      return;
    }
    if (typeof frame.dst === "string") {
      const to = sockets.get(frame.dst);
      if (to && to.readyState === WebSocket.OPEN) {
        to.send(JSON.stringify({ type: "msg", src: id, payload: frame.payload }));
      }
      if (ack && typeof frame.id === "number") {
        socket.send(JSON.stringify({ type: "ack", id: frame.id, result: { delivered: 1 } }));
      }
    } else if (typeof frame.join === "string" && group === null) {
      const name: string = frame.join;
      group = name;
      let members = groups.get(name);
      if (!members) groups.set(name, members = new Set());
      members.add(socket);
      const notice = JSON.stringify({
        type: "notice",
        code: "USER_JOINED",
        sender_rid: name,
        sender: id,
        sender_cid: `cid:${id.slice(0, 24)}`,
        name: `Guest ${id.slice(0, 4)}`,
      });
      for (const member of members) {
        if (member.readyState === WebSocket.OPEN) member.send(notice);
      }
    }
  };
  socket.onclose = () => {
    if (sockets.get(id) === socket) sockets.delete(id);
    if (group !== null) groups.get(group)?.delete(socket);
  };
  return response;
});

// Stops on SIGTERM (the bench sends it to this pid only).
Deno.addSignalListener("SIGTERM", () => {
  server.shutdown().finally(() => Deno.exit(0));
  setTimeout(() => Deno.exit(0), 1_000);
});
