/**
 * What pages and islands import in the server and in the browser:
 * `IS_BROWSER`, `Head` and `asset`.
 *
 * @module
 */
import { type ComponentChildren, createContext } from "preact";
import { useContext } from "preact/hooks";
import { ASSET_CACHE_BUST_KEY } from "./constants.ts";

/**
 * `true` in the browser, `false` while rendering on the server.
 *
 * @example Usage
 * ```ts
 * import { IS_BROWSER } from "$fresh/runtime.ts";
 * if (IS_BROWSER) localStorage.getItem("parley.name");
 * ```
 */
export const IS_BROWSER: boolean = typeof document !== "undefined";

/**
 * Where `<Head>` children go during one server render.
 *
 * @internal Provided by the renderer; `null` in the browser.
 */
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

/**
 * Sets the build id `asset()` adds to URLs.
 *
 * @internal Called by the server at startup and by `revive` in the browser.
 */
export function setBuildId(id: string | undefined): void {
  buildId = id;
}

/**
 * Adds the build id to a static file's URL so browsers may cache it forever;
 * the server answers such URLs with an immutable `Cache-Control`. External and
 * relative URLs are returned as they are.
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
