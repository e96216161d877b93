/**
 * Config: `defineConfig` for `fresh.config.ts`, and `resolveConfig`, which
 * applies the defaults once at startup.
 *
 * @module
 */
import type { BuildStep, FreshConfig } from "./types.ts";

/**
 * Types a config object; returns it unchanged.
 *
 * @example Usage
 * ```ts
 * import { defineConfig } from "$fresh/server.ts";
 * export default defineConfig({ server: { port: 8000 } });
 * ```
 */
export function defineConfig(config: FreshConfig): FreshConfig {
  return config;
}

/**
 * A config's folders and build options with every default applied and every
 * path absolute (relative ones are taken from the folder of `baseUrl`).
 *
 * @example Usage
 * ```ts
 * import { resolveConfig } from "$fresh/config.ts";
 * resolveConfig("file:///app/fresh.gen.ts").staticDir; // "/app/static"
 * ```
 */
export function resolveConfig(baseUrl: string, config: FreshConfig = {}): {
  rootDir: string;
  staticDir: string;
  build: { outDir: string; entries: Record<string, string>; minify: boolean; steps: BuildStep[] };
} {
  const rootDir = decodeURIComponent(new URL(".", baseUrl).pathname).replace(/\/$/, "");
  const abs = (p: string) => p.startsWith("/") ? p : `${rootDir}/${p.replace(/^\.\//, "")}`;
  const entries = Object.entries(config.build?.entries ?? {}).map(([name, p]) => [name, abs(p)]);
  return {
    rootDir,
    staticDir: abs(config.staticDir ?? "static"),
    build: {
      outDir: abs(config.build?.outDir ?? "_fresh"),
      entries: Object.fromEntries(entries),
      minify: config.build?.minify ?? true,
      steps: config.build?.steps ?? [],
    },
  };
}
