/**
 * `$fresh/runtime.ts`: what pages and islands import, and the browser
 * runtime's entry (`revive`), so it imports no server-only code.
 *
 * @module
 */
import { type ComponentChildren, type ComponentType, createContext, h, hydrate } from "preact";
import { useContext } from "preact/hooks";

/** The query key `asset()` adds to a static URL so it can be cached forever. */
export const ASSET_CACHE_BUST_KEY = "__frsh_c";

/** Client bundles are served at `${JS_PREFIX}/<build id>/<file>`, cacheable forever. */
export const JS_PREFIX = "/_frsh/js";

/** Islands are marked `<!--frsh-<id>:<n>-->…<!--/frsh-<id>:<n>-->`, `n` indexing the props. */
export const ISLAND_MARKER = "frsh";

/** @internal Where `<Head>` children go during one server render; `null` in the browser. */
export const HEAD_CONTEXT = createContext<ComponentChildren[] | null>(null);

/**
 * Adds its children to the document's `<head>` (server render only).
 *
 * @example Usage
 * ```tsx
 * import { Head } from "$fresh/runtime.ts";
 * const Page = () => <><Head><title>Room</title></Head><main /></>;
 * ```
 */
export function Head(props: { children?: ComponentChildren }): null {
  useContext(HEAD_CONTEXT)?.push(props.children);
  return null;
}

let buildId: string | undefined;

/** @internal Sets the build id `asset()` adds: by the server at startup, by `revive` in the browser. */
export function setBuildId(id: string | undefined): void {
  buildId = id;
}

/**
 * Adds the build id to a local absolute URL, which the server then answers
 * as immutable; other URLs are returned as they are.
 *
 * @example Usage
 * ```tsx
 * import { asset } from "$fresh/runtime.ts";
 * const link = <link rel="stylesheet" href={asset("/styles.css")} />;
 * ```
 */
export function asset(path: string): string {
  if (!buildId || !path.startsWith("/") || path.startsWith("//")) return path;
  const url = new URL(path, "http://localhost");
  if (url.searchParams.has(ASSET_CACHE_BUST_KEY)) return path;
  url.searchParams.set(ASSET_CACHE_BUST_KEY, buildId);
  return url.pathname + url.search + url.hash;
}

/**
 * The island id of a manifest key: `./islands/room/Chat.tsx` → `room_Chat`.
 *
 * @example Usage
 * ```ts
 * import { islandId } from "$fresh/runtime.ts";
 * islandId("./islands/JoinRoomForm.tsx"); // "JoinRoomForm"
 * ```
 */
export function islandId(key: string): string {
  return key.replace(/^\.\/islands\//, "").replace(/\.[jt]sx?$/, "").replace(/\W/g, "_");
}

/** A stand-in parent of only the nodes between two markers: islands sharing a parent hydrate apart. */
function rootFragment(start: Comment, end: Comment): Element {
  const parent = end.parentNode!;
  const nodes = () => {
    const list: ChildNode[] = [];
    for (let n = start.nextSibling; n && n !== end; n = n.nextSibling) list.push(n);
    return list;
  };
  return {
    nodeType: 1,
    parentNode: parent,
    namespaceURI: (parent as Element).namespaceURI,
    get firstChild() {
      return nodes()[0] ?? null;
    },
    get childNodes() {
      return nodes();
    },
    insertBefore: (node: Node, ref: Node | null) => parent.insertBefore(node, ref ?? end),
    appendChild: (node: Node) => parent.insertBefore(node, end),
    removeChild: (node: Node) => parent.removeChild(node),
    contains: (node: Node | null) => nodes().some((n) => n.contains(node)),
  } as unknown as Element;
}

/**
 * Hydrates each island marked in the document in a task of its own.
 *
 * @example Usage
 * ```ts ignore
 * import { revive } from "$fresh/runtime.ts";
 * import Counter from "./islands/Counter.tsx";
 * revive({ Counter }, [{ start: 3 }], "build-id");
 * ```
 */
export function revive(
  // deno-lint-ignore no-explicit-any
  islands: Record<string, ComponentType<any>>,
  props: Record<string, unknown>[],
  buildId?: string,
): void {
  setBuildId(buildId);
  const starts = new Map<string, Comment>();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_COMMENT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = (node as Comment).data;
    if (text.startsWith(`${ISLAND_MARKER}-`)) starts.set(text, node as Comment);
    if (!text.startsWith(`/${ISLAND_MARKER}-`)) continue;
    const start = starts.get(text.slice(1));
    const [id, n] = text.slice(ISLAND_MARKER.length + 2).split(":");
    const Island = islands[id];
    if (!start || !Island) continue;
    const parent = rootFragment(start, node as Comment);
    setTimeout(() => hydrate(h(Island, props[Number(n)]), parent), 0);
  }
}
