/**
 * Config: `defineConfig` for `fresh.config.ts`, and `resolveConfig`, which
 * applies every default once at startup.
 *
 * @module
 */
import type { FreshConfig, Manifest, ResolvedFreshConfig } from "./types.ts";

/**
 * Types a config object; returns it unchanged.
 *
 * @example Usage
 * ```ts
 * import { defineConfig } from "$fresh/server.ts";
 * export default defineConfig({ port: 8000 });
 * ```
 */
export function defineConfig(config: FreshConfig): FreshConfig {
  return config;
}

/**
 * The `Deno.serve` options of a resolved config: port, hostname, and — when
 * `tls` is set — the certificate and key read from their files; plus the URL
 * to print.
 *
 * @throws {Deno.errors.NotFound} when a TLS file is missing
 * @example Usage
 * ```ts ignore
 * import { resolveConfig, serveOptions } from "$fresh/config.ts";
 * const { options, origin } = await serveOptions(resolveConfig(manifest, config));
 * ```
 */
export async function serveOptions(
  config: ResolvedFreshConfig,
): Promise<{ options: Deno.ServeTcpOptions & Partial<Deno.TlsCertifiedKeyPem>; scheme: string }> {
  const options: Deno.ServeTcpOptions & Partial<Deno.TlsCertifiedKeyPem> = {
    port: config.port,
    hostname: config.hostname,
  };
  if (!config.tls) return { options, scheme: "http" };
  options.cert = await Deno.readTextFile(config.tls.certFile);
  options.key = await Deno.readTextFile(config.tls.keyFile);
  return { options, scheme: "https" };
}

/**
 * The folder of a manifest's `baseUrl` (the project root), as a path.
 *
 * @example Usage
 * ```ts
 * import { rootDirOf } from "$fresh/config.ts";
 * rootDirOf("file:///app/fresh.gen.ts"); // "/app"
 * ```
 */
export function rootDirOf(baseUrl: string): string {
  return decodeURIComponent(new URL(".", baseUrl).pathname).replace(/\/$/, "");
}

/**
 * Applies the defaults of {@linkcode FreshConfig} and makes paths absolute.
 *
 * @throws {RangeError} when the port is not an integer in 0–65535
 * @example Usage
 * ```ts
 * import { resolveConfig } from "$fresh/config.ts";
 * const c = resolveConfig({ routes: {}, islands: {}, baseUrl: "file:///app/fresh.gen.ts" }, { port: 0 });
 * console.log(c.staticDir); // "/app/static"
 * ```
 */
export function resolveConfig(
  manifest: Manifest,
  config: FreshConfig = {},
): ResolvedFreshConfig {
  const rootDir = rootDirOf(manifest.baseUrl);
  const abs = (p: string) => p.startsWith("/") ? p : `${rootDir}/${p.replace(/^\.\//, "")}`;
  const port = config.port ?? Number(Deno.env.get("PORT") ?? 8000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(
      `Cannot resolve config as the port must be an integer in 0-65535: current value is ${port}`,
    );
  }
  const entries = Object.fromEntries(
    Object.entries(config.build?.entries ?? {}).map(([name, p]) => [name, abs(p)]),
  );
  return {
    port,
    hostname: config.hostname ?? "0.0.0.0",
    rootDir,
    staticDir: abs(config.staticDir ?? "static"),
    tls: config.tls
      ? { certFile: abs(config.tls.certFile), keyFile: abs(config.tls.keyFile) }
      : null,
    build: {
      outDir: abs(config.build?.outDir ?? "_fresh"),
      entries,
      minify: config.build?.minify ?? true,
      steps: config.build?.steps ?? [],
    },
  };
}
