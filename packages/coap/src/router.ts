/** Server-side routing of requests by method and Uri-Path pattern ("/rd/:id", "/fw/*"). */
import type { CoapMethod, RequestHandler } from './api';

interface Route {
  method: CoapMethod | '*';
  segments: string[];
  /** A trailing "*" matches any remaining segments (including none). */
  wildcard: boolean;
  handler: RequestHandler;
}

export interface RouteMatch {
  handler: RequestHandler;
  params: Record<string, string>;
}

export class Router {
  private readonly routes: Route[] = [];

  add(method: CoapMethod | '*', pattern: string, handler: RequestHandler): void {
    const segments = pattern.split('/').filter((s) => s.length > 0);
    const wildcard = segments[segments.length - 1] === '*';
    if (wildcard) segments.pop();
    this.routes.push({ method, segments, wildcard, handler });
  }

  /** First route in registration order whose method and path match. `methodMismatch` tells a 4.05 from a 4.04. */
  match(method: CoapMethod, path: string[]): RouteMatch | { methodMismatch: boolean } {
    let methodMismatch = false;
    for (const r of this.routes) {
      const params = matchPath(r, path);
      if (!params) continue;
      if (r.method !== '*' && r.method !== method) {
        methodMismatch = true;
        continue;
      }
      return { handler: r.handler, params };
    }
    return { methodMismatch };
  }
}

function matchPath(r: Route, path: string[]): Record<string, string> | undefined {
  const segs = r.segments;
  if (r.wildcard ? path.length < segs.length : path.length !== segs.length) return undefined;
  let params: Record<string, string> | undefined;
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i]!;
    const p = path[i]!;
    if (s.charCodeAt(0) === 58 /* ':' */) {
      params ??= {};
      params[s.slice(1)] = p;
    } else if (s !== p) return undefined;
  }
  return params ?? EMPTY_PARAMS;
}

const EMPTY_PARAMS: Record<string, string> = Object.freeze({}) as Record<string, string>;
