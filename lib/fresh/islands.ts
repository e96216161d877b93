/**
 * Islands: on the server, island components are wrapped so the HTML carries
 * comment markers around each island and its props are collected; in the
 * browser, `revive` finds the markers and hydrates each island. This module
 * is the runtime bundle's entry, so it must not import server-only code.
 *
 * @module
 */
// deno-lint-ignore-file no-explicit-any
import {
  type ComponentChildren,
  type ComponentType,
  createContext,
  Fragment,
  h,
  hydrate,
  options,
  type VNode,
} from "preact";
import { useContext } from "preact/hooks";
import { setBuildId } from "./runtime.ts";

/**
 * The one marker format: `<!--frsh-<id>:<n>-->` before an island's HTML and
 * `<!--/frsh-<id>:<n>-->` after it, where `n` indexes the props array.
 */
export const ISLAND_MARKER = "frsh";

/**
 * An island rendered on this page: its id and its JSON-serializable props.
 *
 * @example Usage
 * ```ts
 * import type { IslandUse } from "$fresh/islands.ts";
 * const use: IslandUse = { id: "Counter", props: { start: 3 } };
 * ```
 */
export interface IslandUse {
  id: string;
  props: Record<string, unknown>;
}

/**
 * The island id of a manifest key: `./islands/JoinRoomForm.tsx` →
 * `JoinRoomForm`, `./islands/room/Chat.tsx` → `room_Chat`.
 *
 * @example Usage
 * ```ts
 * import { islandId } from "$fresh/islands.ts";
 * islandId("./islands/room/Chat.tsx"); // "room_Chat"
 * ```
 */
export function islandId(key: string): string {
  return key.replace(/^\.\/islands\//, "").replace(/\.[jt]sx?$/, "")
    .replace(/\W/g, "_");
}

const wrappers = new Map<ComponentType<any>, ComponentType<any>>();
const InIsland = createContext(false);
let collected: IslandUse[] | null = null;
let bypass = false;

/**
 * Marks the default exports of island modules as islands for server renders.
 * Installs one `options.vnode` hook (chaining any previous hook) on first use.
 *
 * @example Usage
 * ```ts
 * import { registerIslands } from "$fresh/islands.ts";
 * registerIslands({ "./islands/Counter.tsx": { default: () => null } });
 * ```
 */
export function registerIslands(
  islands: Record<string, { default: ComponentType<any> }>,
): void {
  if (wrappers.size === 0) {
    const previous = options.vnode;
    options.vnode = (vnode: VNode<any>) => {
      const wrapper = bypass ? undefined : wrappers.get(vnode.type as any);
      if (wrapper) vnode.type = wrapper;
      previous?.(vnode);
    };
  }
  for (const [key, mod] of Object.entries(islands)) {
    const id = islandId(key);
    const Island = mod.default;
    if (wrappers.has(Island)) continue;
    const IslandRoot = (props: Record<string, unknown>): ComponentChildren => {
      const insideIsland = useContext(InIsland);
      bypass = true; // so the hook does not wrap the inner island again
      const inner = h(Island, props);
      bypass = false;
      // An island inside an island is plain component: its parent hydrates it.
      if (insideIsland || collected === null) return inner;
      const { children: _, ...rest } = props;
      const mark = `${ISLAND_MARKER}-${id}:${collected.push({ id, props: rest }) - 1}`;
      return h(InIsland.Provider, { value: true }, [
        h(Fragment, { UNSTABLE_comment: mark } as any),
        inner,
        h(Fragment, { UNSTABLE_comment: "/" + mark } as any),
      ]);
    };
    IslandRoot.displayName = `Island(${id})`;
    wrappers.set(Island, IslandRoot);
  }
}

/**
 * Runs a synchronous render and returns the islands it used, in marker order.
 *
 * @example Usage
 * ```ts
 * import { collectIslands } from "$fresh/islands.ts";
 * const { result, islands } = collectIslands(() => "<p>no islands</p>");
 * console.log(result, islands.length); // "<p>no islands</p>" 0
 * ```
 */
export function collectIslands<T>(
  render: () => T,
): { result: T; islands: IslandUse[] } {
  const outer = collected;
  const islands: IslandUse[] = collected = [];
  try {
    return { result: render(), islands };
  } finally {
    collected = outer;
  }
}

/** A stand-in parent holding only the nodes between two markers, so islands
 * that share a parent element hydrate without touching each other. */
function rootFragment(start: Comment, end: Comment): Element {
  const parent = end.parentNode!;
  const nodes = () => {
    const list: ChildNode[] = [];
    for (let n = start.nextSibling; n && n !== end; n = n.nextSibling) {
      list.push(n);
    }
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
 * Hydrates every island marked in the document, each in its own task
 * (`scheduler.postTask` or `setTimeout`) so hydration never blocks the page.
 *
 * @example Usage
 * ```ts ignore
 * import { revive } from "$fresh/islands.ts";
 * import Counter from "./islands/Counter.tsx";
 * revive({ Counter }, [{ start: 3 }], "build-id");
 * ```
 */
export function revive(
  islands: Record<string, ComponentType<any>>,
  props: Record<string, unknown>[],
  buildId?: string,
): void {
  setBuildId(buildId);
  const starts = new Map<string, Comment>();
  const walker = document.createTreeWalker(document.body, 128); // comments
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = (node as Comment).data;
    if (text.startsWith(`${ISLAND_MARKER}-`)) starts.set(text, node as Comment);
    if (!text.startsWith(`/${ISLAND_MARKER}-`)) continue;
    const start = starts.get(text.slice(1));
    const [id, n] = text.slice(ISLAND_MARKER.length + 2).split(":");
    const Island = islands[id];
    if (!start || !Island) continue;
    const parent = rootFragment(start, node as Comment);
    const task = () => hydrate(h(Island, props[Number(n)]), parent);
    const scheduler = (globalThis as any).scheduler;
    scheduler?.postTask ? scheduler.postTask(task) : setTimeout(task, 0);
  }
}
