/**
 * The one codec of the lines the cluster sends on the bus. A line is text
 * without a newline; its first character says what it is, tabs separate its
 * fields. Group names, user_ids and cids never hold a tab or a space, room
 * patterns never a space or a comma, and JSON text never holds a newline. A
 * frame target's `rooms` follow its name after a space.
 *
 * @module
 */
import type { Target } from "./registry.ts";

/** What one bus line says. */
export type Line =
  /** A frame's text for the sockets `target` names on the receiving isolate. */
  | { kind: "frame"; target: Target; text: string }
  /** Connection `cid` was resumed elsewhere; its client had received `received` frames. */
  | { kind: "release"; cid: string; received: number }
  /**
   * The sender just (re)started: it is alive. `reply`: it wants the
   * receiver's connections (announced with `place` lines) in return.
   */
  | { kind: "hello"; reply: boolean }
  /** Connection `cid` of user `user_id` is on the sender, in `group`, since `since`. */
  | { kind: "place"; cid: string; user_id: string; group: string | null; since: number }
  /** Connection `cid` of the sender ended (or moved away). */
  | { kind: "gone"; cid: string };

/**
 * The text of a bus line.
 *
 * @example
 * ```ts
 * import { decodeLine, encodeLine } from "./lines.ts";
 * const line = encodeLine({ kind: "gone", cid: "cid:1" });
 * decodeLine(line); // { kind: "gone", cid: "cid:1" }
 * ```
 */
export function encodeLine(line: Line): string {
  switch (line.kind) {
    case "frame": {
      const { target, text } = line;
      if ("group" in target) return `g${target.group}\t${text}`;
      const rooms = target.rooms === undefined ? "" : ` ${target.rooms.join(",")}`;
      if ("user_id" in target) return `u${target.user_id}${rooms}\t${text}`;
      return `c${target.cid}${rooms}\t${text}`;
    }
    case "release":
      return `r${line.cid}\t${line.received}`;
    case "hello":
      return line.reply ? "h1" : "h0";
    case "place":
      return `p${line.cid}\t${line.user_id}\t${line.group ?? ""}\t${line.since}`;
    case "gone":
      return `x${line.cid}`;
  }
}

/**
 * What a bus line says; null for a line this version cannot read.
 *
 * @example
 * ```ts
 * import { decodeLine } from "./lines.ts";
 * decodeLine('globby\t{"type":"message"}'); // a frame for group "lobby"
 * decodeLine("?"); // null
 * ```
 */
export function decodeLine(line: string): Line | null {
  const tab = line.indexOf("\t");
  const first = tab === -1 ? line.slice(1) : line.slice(1, tab);
  const rest = tab === -1 ? "" : line.slice(tab + 1);
  switch (line[0]) {
    case "g":
      return tab < 1 ? null : { kind: "frame", target: { group: first }, text: rest };
    case "u":
    case "c": {
      if (tab < 1) return null;
      const [name, scope] = first.split(" ");
      const rooms = scope === undefined ? {} : { rooms: scope ? scope.split(",") : [] };
      const target = line[0] === "u" ? { user_id: name, ...rooms } : { cid: name, ...rooms };
      return { kind: "frame", target, text: rest };
    }
    case "r":
      return tab < 1 ? null : { kind: "release", cid: first, received: Number(rest) };
    case "h":
      return { kind: "hello", reply: first === "1" };
    case "p": {
      const [user_id, group, since] = rest.split("\t");
      if (tab < 1 || since === undefined) return null;
      return { kind: "place", cid: first, user_id, group: group || null, since: Number(since) };
    }
    case "x":
      return first ? { kind: "gone", cid: first } : null;
    default:
      return null;
  }
}
