/**
 * `deno task token`: mints an access token for development, signed with
 * `PARLEY_AUTH_SECRET` (or `--secret`), and prints it.
 *
 * ```sh
 * PARLEY_AUTH_SECRET=… deno task token --sub 6f1c…-uuid --name Ada --rooms "team-*,lobby" --ttl 3600
 * PARLEY_AUTH_SECRET=… deno task token --rooms board-meeting --link https://parley.example
 * ```
 *
 * @module
 */
import { signToken } from "./auth.ts";

const USAGE =
  `Usage: deno task token [--sub UUID] [--name NAME] [--rooms "a,team-*"] [--ttl SECONDS] [--dm]
                        [--secret S] [--link https://host]

  --sub     the user id, a UUID (default: a random one; with --link, none: a room pass)
  --name    the display name (default: none; the client's own)
  --rooms   comma-separated room names or * patterns (default: "*", every room)
  --ttl     lifetime in seconds (default: 3600)
  --dm      private messages and calls may reach anyone, not only people in granted rooms
  --secret  the signing secret (default: $PARLEY_AUTH_SECRET)
  --link    print an invite link to the first room named in --rooms on this host
            (https://host/room/<name>#token=…: the token rides in the fragment,
            which browsers never send to the server). Without --sub the link is a
            room pass to share with a group: each person who opens it is their own
            user; with --sub it is that one person's

Prints the token (or the link) on stdout and what it grants on stderr.`;

/**
 * Parses `--key value` and `--key=value` pairs.
 *
 * @throws {TypeError} On an unknown flag or a flag without a value.
 */
export function parseFlags(args: string[]): Record<string, string> {
  const known = new Set(["sub", "name", "rooms", "ttl", "secret", "link"]);
  const switches = new Set(["dm"]);
  const flags: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const match = args[i].match(/^--([a-z]+)(?:=(.*))?$/);
    if (match && switches.has(match[1]) && match[2] === undefined) {
      flags[match[1]] = "true";
      continue;
    }
    if (!match || !known.has(match[1])) {
      throw new TypeError(`Cannot read the arguments as "${args[i]}" is not a known flag`);
    }
    const value = match[2] ?? args[++i];
    if (value === undefined) throw new TypeError(`Cannot read --${match[1]} as it has no value`);
    flags[match[1]] = value;
  }
  return flags;
}

/** Runs the command; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(USAGE);
    return 0;
  }
  let flags: Record<string, string>;
  try {
    flags = parseFlags(args);
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const secret = flags.secret ?? Deno.env.get("PARLEY_AUTH_SECRET");
  if (!secret) {
    console.error(
      "Cannot sign a token as no secret is set: set PARLEY_AUTH_SECRET or pass --secret",
    );
    return 2;
  }
  const ttl = Number(flags.ttl ?? 3600);
  if (!Number.isInteger(ttl) || ttl < 1) {
    console.error(
      `Cannot sign a token as --ttl must be a positive integer: current value is "${flags.ttl}"`,
    );
    return 2;
  }
  // An invite link is a room pass (no sub) unless it is made for one person.
  const sub = flags.sub ?? (flags.link === undefined ? crypto.randomUUID() : undefined);
  const rooms = (flags.rooms ?? "*").split(",").map((r) => r.trim()).filter(Boolean);
  let link: URL | undefined;
  if (flags.link !== undefined) {
    const room = rooms.find((r) => !r.includes("*"));
    try {
      link = new URL(flags.link);
    } catch {
      // reported below
    }
    if (!link || !link.protocol.startsWith("http")) {
      console.error(
        `Cannot make a link as --link must be an http(s) address: current value is "${flags.link}"`,
      );
      return 2;
    }
    if (!room) {
      console.error("Cannot make a link as --rooms names no room (only * patterns): name one");
      return 2;
    }
    link = new URL(`/room/${encodeURIComponent(room)}`, link);
  }
  try {
    const token = await signToken(
      secret,
      { sub, name: flags.name, rooms, dm: flags.dm === "true" },
      ttl,
    );
    if (link) link.hash = `token=${token}`;
    console.log(link ? link.href : token);
    console.error(
      `${sub ? `sub ${sub}` : "room pass (no sub)"}${
        flags.name ? `, name "${flags.name}"` : ""
      }, rooms ${rooms.join(", ")}, ` +
        `expires ${new Date(Date.now() + ttl * 1000).toISOString()}`,
    );
    return 0;
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
