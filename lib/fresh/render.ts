/**
 * Server rendering: the page inside `_app`, `<Head>` children in the head,
 * and markers, props and a boot script for the islands the page used.
 *
 * @module
 */
// deno-lint-ignore-file no-explicit-any
import type { ComponentChildren, ComponentType } from "preact";
import { createContext, Fragment, h, options } from "preact";
import { useContext } from "preact/hooks";
import { renderToString } from "preact-render-to-string";
import type { BuildOutput } from "./build.ts";
import { HEAD_CONTEXT, ISLAND_MARKER, islandId, JS_PREFIX } from "./runtime.ts";
import type { AppProps, Manifest, PageProps } from "./types.ts";

const STATE_SCRIPT_ID = "__FRSH_STATE";
const wrappers = new Map<ComponentType<any>, ComponentType<any>>();
const InIsland = createContext(false);
/** The islands of the page being rendered, with their props, in marker order. */
let collected: { id: string; props: Record<string, unknown> }[] | null = null;
let bypass = false;

/** Marks the default exports of island modules as islands, through one `options.vnode` hook. */
function registerIslands(islands: Manifest["islands"]): void {
  if (wrappers.size === 0) {
    const previous = options.vnode;
    options.vnode = (vnode) => {
      const wrapper = bypass ? undefined : wrappers.get(vnode.type as any);
      if (wrapper) vnode.type = wrapper;
      previous?.(vnode);
    };
  }
  for (const [key, { default: Island }] of Object.entries(islands)) {
    const id = islandId(key);
    if (wrappers.has(Island)) continue;
    const IslandRoot = (props: Record<string, unknown>): ComponentChildren => {
      const insideIsland = useContext(InIsland);
      bypass = true; // so the hook does not wrap the inner island again
      const inner = h(Island, props);
      bypass = false;
      // An island inside an island is a plain component: its parent hydrates it.
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

/** The props script and the boot module; the module carries `nonce` if it is base64 (else none). */
function islandScripts(islands: NonNullable<typeof collected>, build: BuildOutput, nonce: unknown) {
  const url = (file: string) => JSON.stringify(`${JS_PREFIX}/${build.buildId}/${file}`);
  const ids = [...new Set(islands.map((i) => i.id))];
  const imports = ids.map((id, i) => {
    if (!build.islands[id]) {
      throw new Error(
        `Cannot hydrate island "${id}" as the client build does not contain it: run \`deno task build\``,
      );
    }
    return `import $${i} from ${url(build.islands[id])};`;
  });
  // No `</script>` or `<!--` can end up in the props.
  const state = JSON.stringify(islands.map((i) => i.props)).replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
  const nonceAttribute = typeof nonce === "string" && /^[A-Za-z0-9+/_=-]+$/.test(nonce)
    ? ` nonce="${nonce}"`
    : "";
  const registry = ids.map((id, i) => `${JSON.stringify(id)}:$${i}`).join(",");
  return `<script id="${STATE_SCRIPT_ID}" type="application/json">${state}</script>` +
    `<script type="module"${nonceAttribute}>import{revive}from${url(build.runtime)};` +
    `${imports.join("")}revive({${registry}},JSON.parse(document.getElementById(` +
    `"${STATE_SCRIPT_ID}").textContent),${JSON.stringify(build.buildId)});</script>`;
}

function insertBefore(html: string, tag: string, insert: string): string {
  const at = html.lastIndexOf(tag);
  return at === -1 ? html + insert : html.slice(0, at) + insert + html.slice(at);
}

/**
 * Options of {@linkcode renderPage}: the page, its props, the `_app` (which
 * renders the page as its `Component`), the manifest's islands and the build.
 *
 * @example Usage
 * ```ts
 * import type { RenderPageOptions } from "$fresh/render.ts";
 * const pick = (o: RenderPageOptions) => o.page;
 * ```
 */
export interface RenderPageOptions {
  page: ComponentType<any>;
  props: PageProps & Record<string, unknown>;
  app?: ComponentType<AppProps>;
  islands?: Manifest["islands"];
  build?: BuildOutput;
}

/**
 * Renders a page to a complete HTML document. `<Head>` children go before
 * `</head>`, a `<title>` among them replacing the app's. A page that used no
 * island gets no script; the boot script carries `props.state.cspNonce`.
 *
 * @throws {Error} when the page used an island missing from `build`
 * @example Usage
 * ```tsx
 * import { renderPage } from "$fresh/render.ts";
 * const html = renderPage({
 *   page: () => <p>hi</p>,
 *   props: { url: new URL("http://x/"), route: "/", params: {}, state: {}, data: undefined },
 * });
 * ```
 */
export function renderPage(options: RenderPageOptions): string {
  const { page, props, app, islands = {}, build } = options;
  registerIslands(islands);
  const head: ComponentChildren[] = [];
  const Component = () => h(page, props);
  const root = app ? h(app, { ...props, Component }) : h(Component, null);
  const used: NonNullable<typeof collected> = collected = [];
  let html: string;
  try {
    html = renderToString(h(HEAD_CONTEXT.Provider, { value: head }, root));
  } finally {
    collected = null;
  }
  if (head.length > 0) {
    const extra = renderToString(h(Fragment, null, head));
    // Browsers show the first <title>: a page's own title replaces the app's.
    if (extra.includes("<title")) html = html.replace(/<title>[^<]*<\/title>/, "");
    html = insertBefore(html, "</head>", extra);
  }
  if (used.length > 0) {
    if (!build) {
      throw new Error("Cannot render islands as no client build is loaded: run `deno task build`");
    }
    html = insertBefore(html, "</body>", islandScripts(used, build, props.state.cspNonce));
  }
  return "<!DOCTYPE html>" + html; // which JSX cannot express
}
