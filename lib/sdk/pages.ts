/**
 * Paged lists (users of a group, live groups) as Skapi pages them: a
 * `limit`, a `startKey`, and `fetchMore` to continue where the previous call
 * with the same query ended.
 *
 * @module
 */
import { type GroupRow, LIMITS, type Page, type UserRow } from "../protocol/mod.ts";
import { ConnectionState } from "./events.ts";
import { RealtimeError } from "./errors.ts";
import { listOverHttp } from "./http_lists.ts";
import type { Signaling } from "./signaling.ts";

/** Paging options of the list methods, as in Skapi. */
export interface FetchOptions {
  /** Rows per page, at most 1000. @default 100 */
  limit?: number;
  /** Continue from where the previous call with the same query ended. */
  fetchMore?: boolean;
  /** Sort order of the rows. @default true */
  ascending?: boolean;
  /** Start after this key (a page's `startKey`). */
  startKey?: string;
}

type Rows = { users: UserRow; groups: GroupRow };

/**
 * Fetches pages — over the connection when it is open or opening, else over
 * HTTP, as Skapi's lists work without a socket — and remembers where each
 * query ended.
 *
 * @example
 * ```ts ignore
 * const pages = new Pages(signaling);
 * const first = await pages.fetch("users", { group: "lobby" }, { limit: 10 });
 * const next = await pages.fetch("users", { group: "lobby" }, { limit: 10, fetchMore: true });
 * ```
 */
export class Pages {
  #cursors = new Map<string, string>();

  constructor(private readonly signaling: Signaling) {}

  /** One page of `type`; `fetchMore` past the last page gives an empty last page. */
  async fetch<T extends keyof Rows>(
    type: T,
    query: object,
    { limit, fetchMore, ascending, startKey }: FetchOptions,
  ): Promise<Page<Rows[T]>> {
    if (
      limit !== undefined && !(Number.isInteger(limit) && limit >= 1 && limit <= LIMITS.maxPageSize)
    ) {
      throw RealtimeError.invalidParameter(
        `Cannot list as 'limit' must be 1–${LIMITS.maxPageSize}: current value is ${limit}`,
      );
    }
    const key = JSON.stringify([type, query, ascending]);
    const from = startKey ?? (fetchMore ? this.#cursors.get(key) : undefined);
    if (from === "end") return { list: [], startKey: "end", endOfList: true };
    const body = { type, ...query, limit, ascending, startKey: from };
    const { state, options, token } = this.signaling;
    const page = state === ConnectionState.Connected || state === ConnectionState.Connecting
      ? await this.signaling.request(body as never, `list ${type}`) as Page<Rows[T]>
      : await listOverHttp<Rows[T]>(options.url, token, type, {
        ...query,
        limit,
        ascending,
        startKey: from,
      });
    this.#cursors.set(key, page.startKey);
    return page;
  }
}
