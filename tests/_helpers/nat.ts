/**
 * A test bed of two (or more) LANs, each behind its own NAT router, and a
 * "public" segment where Parley and coturn listen — real nftables NATs in
 * network namespaces (shared/docs/TESTING.md, "Two LANs behind NATs").
 *
 * The test namespace of `tests/netns.sh` plays the internet: the public
 * address {@linkcode PUBLIC_IP} sits on its `lo`, and each NAT router is a
 * namespace joined to it by a veth pair (`100.64.X.1` here, `100.64.X.2` on
 * the router's `wan0`). Behind each router, a LAN namespace (`192.168.X.2`,
 * default route via the router). No route joins two LANs, so host
 * candidates fail as between two homes, and no packet leaves the test
 * namespace. Named namespaces are global to the machine: their names carry
 * a random id, and {@linkcode NatBed.stop} (or `await using`) deletes them.
 *
 * @example
 * ```ts ignore
 * await using bed = await startNatBed(["cone", "cone"]);
 * await using app = await startApp({ hostname: PUBLIC_IP, env: { STUN_URLS: "…" } });
 * await using browser = await bed.lans[0].launchChromium(app.port);
 * ```
 *
 * @module
 */
import type { Browser } from "playwright-core";
import { launchChromium, type LaunchChromiumOptions } from "./browser.ts";

/** The public address: Parley and coturn listen here; pages use `http://PUBLIC_IP:PORT`. */
export const PUBLIC_IP = "100.64.0.1";

/**
 * How a LAN's router treats traffic.
 * - `cone`: port-preserving masquerade, unsolicited WAN packets dropped (a
 *   home router: STUN hole punching works);
 * - `symmetric`: `masquerade random`, a new public port per destination (a
 *   mobile carrier: only TURN connects);
 * - `udp-blocked`: `cone`, and no UDP crosses the router at all (only TURN
 *   over TCP connects).
 */
export type NatKind = "cone" | "symmetric" | "udp-blocked";

/** One LAN behind its router. */
export interface Lan {
  /** The router's kind. */
  kind: NatKind;
  /** The LAN namespace's name (the browsers run here). */
  netns: string;
  /** The router namespace's name. */
  router: string;
  /** The router's public address (what STUN reports for this LAN). */
  wanAddress: string;
  /** The host's address inside the LAN. */
  address: string;
  /** A script that runs `/usr/bin/chromium` inside this LAN: playwright's `executablePath`. */
  chromiumPath: string;
  /** `ip netns exec <netns>`: prefix a command with it to run it inside this LAN. */
  exec: readonly string[];
  /**
   * Chromium inside this LAN, with the origins `http://PUBLIC_IP:<appPort>`
   * treated as secure (camera and microphone) and real host addresses in
   * its candidates (no mDNS names).
   */
  launchChromium(
    appPorts: number | number[],
    options?: LaunchChromiumOptions,
  ): Promise<Browser & AsyncDisposable>;
}

/** A running bed. */
export interface NatBed extends AsyncDisposable {
  lans: Lan[];
  /** Deletes every namespace and file of the bed; idempotent. */
  stop(): Promise<void>;
}

const IP = "/usr/sbin/ip";
const NFT = "/usr/sbin/nft";

async function run(cmd: string, args: string[], stdin?: string): Promise<void> {
  const child = new Deno.Command(cmd, {
    args,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const { success, stderr } = await child.output();
  if (!success) {
    throw new Error(`${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(stderr).trim()}`);
  }
}

/** The router's rules: NAT, the cone's drop of unsolicited packets, the UDP block. */
function routerRules(kind: NatKind): string {
  return [
    "table ip nat {",
    "  chain postrouting {",
    "    type nat hook postrouting priority 100;",
    `    oifname "wan0" masquerade${kind === "symmetric" ? " random" : ""}`,
    "  }",
    "}",
    "table inet filter {",
    // Without this drop the kernel keeps a conntrack entry for the peer's
    // first, unsolicited check packet, which clashes with the later outbound
    // mapping: that then gets a new port and hole punching fails.
    "  chain input {",
    "    type filter hook input priority 0; policy accept;",
    '    iifname "wan0" ct state new drop',
    "  }",
    ...(kind === "udp-blocked"
      ? [
        "  chain blockudp {",
        "    type filter hook forward priority 0; policy accept;",
        "    meta l4proto udp drop",
        "  }",
      ]
      : []),
    "}",
    "",
  ].join("\n");
}

/** What `ip addr add` says when the address is already there. */
const ALREADY_THERE = /exists|already assigned/i;

/**
 * Claims `count` free `100.64.X.0/24` subnets of the test namespace (X in
 * 1…254, picked at random). Beds built at once by parallel test files share
 * the namespace: each X is claimed by adding `100.64.X.254/32` to `lo`,
 * which the kernel lets only one of them do. `claimed` gets each X at once,
 * so a failure halfway still releases it.
 */
async function claimSubnets(count: number, claimed: number[]): Promise<number[]> {
  const free = Array.from({ length: 254 }, (_, i) => i + 1);
  const picked: number[] = [];
  while (picked.length < count) {
    if (free.length === 0) throw new Error("No free 100.64.X.0/24 subnet for the NAT bed");
    const [x] = free.splice(Math.floor(Math.random() * free.length), 1);
    try {
      await run(IP, ["addr", "add", `100.64.${x}.254/32`, "dev", "lo"]);
    } catch (error) {
      if (ALREADY_THERE.test(String(error))) continue;
      throw error;
    }
    claimed.push(x);
    picked.push(x);
  }
  return picked;
}

/**
 * Builds the bed: one LAN per entry of `kinds`, each behind its own router.
 * Must run as root inside the namespace of `tests/netns.sh` (it refuses
 * elsewhere: the bed would change the machine's own network). On failure
 * everything made so far is torn down.
 */
export async function startNatBed(kinds: NatKind[]): Promise<NatBed> {
  if (Deno.env.get("PARLEY_NETNS") !== "1") {
    throw new Error("The NAT bed runs only inside `bash tests/netns.sh …` (as root).");
  }
  const id = `${Deno.pid.toString(36)}${crypto.randomUUID().slice(0, 6)}`;
  const namespaces: string[] = [];
  const claimed: number[] = [];
  const wans: string[] = [];
  const dir = await Deno.makeTempDir({ prefix: "parley-nat-" });
  let stopping: Promise<void> | undefined;
  const stop = () =>
    stopping ??= (async () => {
      // Our ends of the veth pairs first: a deleted namespace goes away
      // later, in the background, and its veth pair with it.
      for (const wan of wans) await run(IP, ["link", "del", wan]).catch(() => {});
      for (const ns of namespaces.reverse()) {
        await run(IP, ["netns", "del", ns]).catch(() => {});
      }
      for (const x of claimed) {
        await run(IP, ["addr", "del", `100.64.${x}.254/32`, "dev", "lo"]).catch(() => {});
      }
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    })();
  try {
    await run(IP, ["addr", "add", `${PUBLIC_IP}/32`, "dev", "lo"]).catch((error) => {
      if (!ALREADY_THERE.test(String(error))) throw error;
    });
    await run("sysctl", ["-qw", "net.ipv4.ip_forward=1"]);
    const subnets = await claimSubnets(kinds.length, claimed);
    const lans: Lan[] = [];
    for (const [i, kind] of kinds.entries()) {
      const x = subnets[i];
      const router = `parley-${id}-nat${i}`;
      const lan = `parley-${id}-lan${i}`;
      const wan = `pw${id.slice(-6)}${i}`.slice(0, 15);
      for (const ns of [router, lan]) {
        await run(IP, ["netns", "add", ns]);
        namespaces.push(ns);
        await run(IP, ["-n", ns, "link", "set", "lo", "up"]);
      }
      await run(IP, ["link", "add", wan, "type", "veth", "peer", "name", "wan0", "netns", router]);
      wans.push(wan);
      await run(IP, ["addr", "add", `100.64.${x}.1/24`, "dev", wan]);
      await run(IP, ["link", "set", wan, "up"]);
      await run(IP, ["-n", router, "addr", "add", `100.64.${x}.2/24`, "dev", "wan0"]);
      await run(IP, ["-n", router, "link", "set", "wan0", "up"]);
      await run(IP, ["-n", router, "route", "add", "default", "via", `100.64.${x}.1`]);
      await run(IP, [
        "-n",
        router,
        "link",
        "add",
        "lan0",
        "type",
        "veth",
        "peer",
        "name",
        "eth0",
        "netns",
        lan,
      ]);
      await run(IP, ["-n", router, "addr", "add", `192.168.${x}.1/24`, "dev", "lan0"]);
      await run(IP, ["-n", router, "link", "set", "lan0", "up"]);
      await run(IP, ["-n", lan, "addr", "add", `192.168.${x}.2/24`, "dev", "eth0"]);
      await run(IP, ["-n", lan, "link", "set", "eth0", "up"]);
      await run(IP, ["-n", lan, "route", "add", "default", "via", `192.168.${x}.1`]);
      await run(IP, ["netns", "exec", router, "sysctl", "-qw", "net.ipv4.ip_forward=1"]);
      await run(IP, ["netns", "exec", router, NFT, "-f", "-"], routerRules(kind));
      const chromiumPath = `${dir}/chromium-lan${i}`;
      await Deno.writeTextFile(
        chromiumPath,
        `#!/bin/sh\nexec ${IP} netns exec ${lan} /usr/bin/chromium "$@"\n`,
        { mode: 0o755 },
      );
      lans.push({
        kind,
        netns: lan,
        router,
        wanAddress: `100.64.${x}.2`,
        address: `192.168.${x}.2`,
        chromiumPath,
        exec: [IP, "netns", "exec", lan],
        launchChromium: (appPorts, options = {}) =>
          launchChromium({
            ...options,
            loopbackCandidates: false,
            args: [
              `--unsafely-treat-insecure-origin-as-secure=${
                [appPorts].flat().map((port) => `http://${PUBLIC_IP}:${port}`).join(",")
              }`,
              "--disable-features=WebRtcHideLocalIpsWithMdns",
              `--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE ${PUBLIC_IP}`,
              ...(options.args ?? []),
            ],
            launchOptions: { ...options.launchOptions, executablePath: chromiumPath },
          }),
      });
    }
    return { lans, stop, [Symbol.asyncDispose]: stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
