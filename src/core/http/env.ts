import type { Context } from 'hono';
import type { Profile } from '../contract.ts';
import type { ConnectInfo, Services } from '../ports.ts';
import type { StaticFiles } from './assets.ts';

/** What a runtime adapter gives the app: everything here is the same on Node, Deno and Workers. */
export interface AppOptions {
  services: Services;
  runtime: 'node' | 'deno' | 'workerd';
  version: string;
  startedAt: number;
  /** Completes a WebSocket upgrade and hands the socket to the room `roomId`. */
  upgrade(c: Context, roomId: string, info: ConnectInfo): Response | Promise<Response>;
  /** The peer's address as the platform sees it (the app applies TRUST_PROXY on top). */
  clientAddress(c: Context): string;
  /** Open sockets on this host, where the runtime can count them. */
  socketsOpen(): number | null;
  /** What GET /metrics can count here: a whole `process`, or a Worker's `front` isolate (no sockets, no rooms). */
  metricsScope: 'process' | 'front';
  /** The web panel's files, where the runtime serves them itself (Workers serves them as static assets). */
  staticFiles?: StaticFiles | null | undefined;
}

/** Hono's typed context for every route: `requireUser` sets the user. */
export type Env = { Variables: { user: Profile } };
