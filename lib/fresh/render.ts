/**
 * Server rendering: a page inside `_app`, `<Head>` children in the head,
 * and — only when the page used an island — comment markers around each
 * island, its props and the module script that hydrates them.
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
  options,
  type VNode,
} from "preact";
import { useContext } from "preact/hooks";
import { renderToString } from "preact-render-to-string";
import type { BuildOutput } from "./build.ts";
import { HEAD_CONTEXT, ISLAND_MARKER, islandId } from "./runtime.ts";
import { JS_PREFIX } from "./static.ts";
import type { AppProps, Manifest, PageProps } from "./types.ts";

/** The `ctx.state` key of a CSP nonce, which goes on the one inline script: the boot module. */
const NONCE_STATE_KEY = "cspNonce";
const STATE_SCRIPT_ID = "__FRSH_STATE";

/** An island rendered on this page: its id and its JSON-serializable props. */
type IslandUse = { id: string; props: Record<string, unknown> };

const wrappers = new Map<ComponentType<any>, ComponentType<any>>();
const InIsland = createContext(false);
let collected: IslandUse[] | null = null;
let bypass = false;

/**
 * Marks the default exports of island modules as islands for server renders,
 * through one `options.vnode` hook (chaining any previous one).
 *
 * @example Usage
 * ```ts
 * import { registerIslands } from "$fresh/render.ts";
 * registerIslands({ "./islands/Counter.tsx": { default: () => null } });
 * ```
 */
export function registerIslands(islands: Manifest["islands"]): void {
  if (wrappers.size === 0) {
    const previous = options.vnode;
    options.vnode = (vnode: VNode<any>) => {
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

/** JSON that is safe inside `<script>`: no `</script>`, no `<!--`. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

/** A nonce may only hold base64 characters: anything else is dropped, not escaped. */
function nonceAttribute(nonce: unknown): string {
  return typeof nonce === "string" && /^[A-Za-z0-9+/_=-]+$/.test(nonce) ? ` nonce="${nonce}"` : "";
}

function islandScripts(islands: IslandUse[], build: BuildOutput, nonce: unknown): string {
  const base = `${JS_PREFIX}/${build.buildId}/`;
  const ids = [...new Set(islands.map((i) => i.id))];
  const imports = ids.map((id, i) => {
    const file = build.islands[id];
    if (!file) {
      throw new Error(
        `Cannot hydrate island "${id}" as the client build does not contain it: run \`deno task build\``,
      );
    }
    return `import $${i} from ${JSON.stringify(base + file)};`;
  });
  const registry = ids.map((id, i) => `${JSON.stringify(id)}:$${i}`).join(",");
  const state = islands.map((i) => i.props);
  return `<script id="${STATE_SCRIPT_ID}" type="application/json">${
    scriptJson(state)
  }</script><script type="module"${nonceAttribute(nonce)}>import{revive}from${
    JSON.stringify(base + build.runtime)
  };${imports.join("")}revive({${registry}},JSON.parse(document.getElementById(${
    JSON.stringify(STATE_SCRIPT_ID)
  }).textContent),${JSON.stringify(build.buildId)});</script>`;
}

function insertBefore(html: string, tag: string, insert: string): string {
  const at = html.lastIndexOf(tag);
  return at === -1 ? html + insert : html.slice(0, at) + insert + html.slice(at);
}

/**
 * Options of {@linkcode renderPage}.
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
  /** The `_app` component, which renders the page as its `Component`. */
  app?: ComponentType<AppProps>;
  /** Where the islands' bundles are; needed only when the page uses an island. */
  build?: BuildOutput;
}

/**
 * Renders a page to a complete HTML document (with `<!DOCTYPE html>`, which
 * JSX cannot express). `<Head>` children go before `</head>`, and a `<title>`
 * among them replaces the app's. Adds no script when the page used no island;
 * the boot script carries `props.state.cspNonce` as its nonce when set.
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
  const { page, props, app, build } = options;
  const head: ComponentChildren[] = [];
  const Component = () => h(page, props);
  const islands: IslandUse[] = collected = [];
  let html: string;
  try {
    html = renderToString(
      h(
        HEAD_CONTEXT.Provider,
        { value: head },
        app ? h(app, { ...props, Component }) : h(Component, null),
      ),
    );
  } finally {
    collected = null;
  }
  if (head.length > 0) {
    const extra = renderToString(h(Fragment, null, head));
    // Browsers show the first <title>: a page's own title replaces the app's.
    if (extra.includes("<title")) html = html.replace(/<title>[^<]*<\/title>/, "");
    html = insertBefore(html, "</head>", extra);
  }
  if (islands.length > 0) {
    if (!build) {
      throw new Error("Cannot render islands as no client build is loaded: run `deno task build`");
    }
    html = insertBefore(
      html,
      "</body>",
      islandScripts(islands, build, props.state?.[NONCE_STATE_KEY]),
    );
  }
  return "<!DOCTYPE html>" + html;
}
